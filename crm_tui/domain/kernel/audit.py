"""The append-only, hash-chained audit log.

Each event's hash covers its id, time, actor, action, entity, before/after and the
previous event's hash; `audit_head` holds the newest id and hash so a truncated tail is
caught too. `record()` runs inside the caller's transaction, so the change and its
event commit or roll back together.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.store.db import Database
from crm_tui.store.models import AuditEvent, AuditHead
from crm_tui.store.types import utcnow

GENESIS = "0" * 64


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value)
    return str(value)


def dumps(value: Any) -> str:
    if value is None or value == "":
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=_default)


def _digest(ev: AuditEvent) -> str:
    at = ev.at.isoformat(timespec="microseconds")
    parts = [str(ev.id), at, str(ev.actor_id or ""), ev.actor_name, ev.action, ev.entity,
             ev.entity_id, ev.before, ev.after, ev.prev_hash]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def record(
    db: Database,
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: Any = "",
    before: Any = None,
    after: Any = None,
) -> AuditEvent:
    """Append one event in the caller's transaction."""
    db.lock_audit_chain(session)
    head = session.get(AuditHead, 1)
    if head is None:
        head = AuditHead(id=1, last_event_id=0, last_hash=GENESIS)
        session.add(head)
    ev = AuditEvent(
        at=utcnow(),
        actor_id=actor.id,
        actor_name=actor.username,
        action=action,
        entity=entity,
        entity_id=str(entity_id if entity_id is not None else ""),
        before=dumps(before),
        after=dumps(after),
        prev_hash=head.last_hash or GENESIS,
        hash="",
    )
    session.add(ev)
    session.flush()  # assigns the id the hash covers
    ev.hash = _digest(ev)
    head.last_event_id = ev.id or 0
    head.last_hash = ev.hash
    session.add(head)
    session.flush()
    return ev


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    bad_event_id: int | None = None
    reason: str = ""


def verify_chain(db: Database, batch: int = 5000) -> ChainReport:
    """Walk the log in id order; the first event whose hash or link is wrong is named."""
    prev_hash = GENESIS
    prev_id = 0
    checked = 0
    with db.read() as session:
        last_id = 0
        while True:
            rows = session.scalars(
                select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id)
                .limit(batch)
            ).all()
            if not rows:
                break
            for ev in rows:
                if ev.prev_hash != prev_hash:
                    return ChainReport(False, checked, ev.id, "audit.verify.reason_link")
                if _digest(ev) != ev.hash:
                    return ChainReport(False, checked, ev.id, "audit.verify.reason_hash")
                prev_hash, prev_id = ev.hash, ev.id or 0
                checked += 1
            last_id = rows[-1].id or 0
        head = session.get(AuditHead, 1)
    if head is not None and (head.last_event_id != prev_id or head.last_hash != prev_hash):
        return ChainReport(False, checked, head.last_event_id, "audit.verify.reason_tail")
    if head is None and checked:
        return ChainReport(False, checked, prev_id, "audit.verify.reason_tail")
    return ChainReport(True, checked)


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    before: str
    after: str


def list_events(
    db: Database,
    actor: Actor,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    actor_name: str | None = None,
    before_id: int | None = None,
    limit: int = 200,
) -> list[AuditRow]:
    """Newest first, keyset-paged by id."""
    require(actor, Perm.AUDIT_VIEW)
    q = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)  # type: ignore[union-attr]
    if entity:
        q = q.where(AuditEvent.entity == entity)
    if entity_id:
        q = q.where(AuditEvent.entity_id == str(entity_id))
    if actor_name:
        q = q.where(AuditEvent.actor_name == actor_name)
    if before_id:
        q = q.where(AuditEvent.id < before_id)
    with db.read() as session:
        rows = session.scalars(q).all()
        return [AuditRow(r.id, r.at, r.actor_name, r.action, r.entity, r.entity_id, r.before,
                         r.after) for r in rows]


def iter_all(db: Database) -> Iterator[AuditEvent]:
    with db.read() as session:
        yield from session.scalars(select(AuditEvent).order_by(AuditEvent.id))

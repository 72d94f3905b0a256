"""The append-only, keyed, hash-chained audit log.

Each event's MAC (HMAC-SHA256 with the keyring's audit key) covers its id, time, actor,
action, entity, the SHA-256 digest of its before/after payload (`payload_digest`), the
audited row's seal (`row_mac`), its scheme and the previous event's MAC; `audit_head` holds
the newest id and MAC so a truncated tail is caught too, and an anchor kept elsewhere
(`crm audit anchor`) catches a truncation that rewrote the head. Because the chain covers the
payload's digest, not the payload, `redact_payloads` can later replace a personal value by a
marker and the chain still verifies (the digest is kept). Events chained before keyed MACs
(scheme "sha") are checked with the old unkeyed digest until `rekey_legacy` re-keys them.
`record()` runs inside the caller's transaction and re-checks the actor's session, so the
change and its event commit or roll back together.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session

from crm_tui.domain.kernel import seals
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.errors import DomainError
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.sessions import check_actor
from crm_tui.store.db import Database
from crm_tui.store.models import AuditEvent, AuditHead, Customer, Staff
from crm_tui.store.types import utcnow

GENESIS = "0" * 64
REDACTED = "{\"redacted\": true}"
LEGACY = "sha"


class AuditKeyMissing(DomainError):
    key = "audit.error.no_key"


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


def payload_digest(before: str, after: str) -> str:
    return hashlib.sha256(f"{before}\x1f{after}".encode()).hexdigest()


def _legacy_digest(ev: AuditEvent) -> str:
    """The unkeyed SHA-256 of events chained before issue 7 (over the payload itself)."""
    at = ev.at.isoformat(timespec="microseconds")
    parts = [str(ev.id), at, str(ev.actor_id or ""), ev.actor_name, ev.action, ev.entity,
             ev.entity_id, ev.before, ev.after, ev.prev_hash]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _mac(key: bytes, ev: AuditEvent) -> str:
    at = ev.at.isoformat(timespec="microseconds")
    parts = [str(ev.id), at, str(ev.actor_id or ""), ev.actor_name, ev.action, ev.entity,
             ev.entity_id, ev.payload_digest, ev.row_mac, ev.scheme, ev.prev_hash]
    return hmac.new(key, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def key_id(key: bytes) -> str:
    """The audit key's public fingerprint (matches Keyring.audit_key_id)."""
    return "a" + hashlib.sha256(b"crm-tui audit key id" + key).hexdigest()[:10]


def record(
    db: Database,
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: Any = "",
    before: Any = None,
    after: Any = None,
    *,
    check_session: bool = True,
) -> AuditEvent:
    """Append one event in the caller's transaction (after re-checking the actor's session)."""
    if db.audit_key is None:
        raise AuditKeyMissing()
    if check_session:
        check_actor(session, actor)
    db.lock_audit_chain(session)
    # The head is read fresh (under the lock) by the transaction's first event, then kept:
    # the identity map holds rows weakly, so a flushed head was dropped and read again by
    # every later event (a SELECT per event: a quarter of a lead import's time).
    transaction = session.get_transaction()
    kept = session.info.get("audit_head")
    if transaction is not None and kept is not None and kept[0] is transaction:
        head = session.get(AuditHead, 1)
    else:
        head = session.get(AuditHead, 1, populate_existing=True)
        transaction = session.get_transaction()  # that SELECT began one if none had
    if head is None:
        head = AuditHead(id=1, last_event_id=0, last_hash=GENESIS)
        session.add(head)
    session.info["audit_head"] = (transaction, head)
    before_s, after_s = dumps(before), dumps(after)
    ev = AuditEvent(
        at=utcnow(),
        actor_id=actor.id,
        actor_name=actor.username,
        action=action,
        entity=entity,
        entity_id=str(entity_id if entity_id is not None else ""),
        before=before_s,
        after=after_s,
        prev_hash=head.last_hash or GENESIS,
        hash="",
        payload_digest=payload_digest(before_s, after_s),
        scheme=f"hmac:{key_id(db.audit_key)}",
        row_mac="",
    )
    session.add(ev)
    session.flush()  # assigns the id the MAC covers (and flushes the audited change)
    if entity in seals.WATCHED and ev.entity_id.isdigit():
        macs = seals.seal_now(db.audit_key, session.connection(), entity, [int(ev.entity_id)],
                              ev.id)
        ev.row_mac = macs.get(int(ev.entity_id), "")
        seals.touch(session, entity, [int(ev.entity_id)])  # sealed again at commit
    ev.hash = _mac(db.audit_key, ev)
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
    params: dict[str, Any] | None = None
    legacy: int = 0  # events verified by the old unkeyed digest


@dataclass(frozen=True)
class Anchor:
    """The head of the chain at one moment, kept elsewhere to detect a later truncation."""

    count: int
    last_event_id: int
    hash: str
    at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "last_event_id": self.last_event_id, "hash": self.hash,
                "at": self.at.isoformat() if self.at else None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Anchor:
        at = data.get("at")
        return cls(int(data["count"]), int(data["last_event_id"]), str(data["hash"]),
                   datetime.fromisoformat(at) if at else None)


def anchor(db: Database) -> Anchor:
    with db.read() as session:
        head = session.get(AuditHead, 1)
        count = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
        last = session.get(AuditEvent, head.last_event_id) if head else None
    return Anchor(count, head.last_event_id if head else 0, head.last_hash if head else GENESIS,
                  last.at if last else None)


def _holds_data(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Staff))
                or session.scalar(select(func.count()).select_from(Customer)))


def verify_chain(db: Database, batch: int = 5000, *, anchor: Anchor | None = None,
                 key: bytes | None = None) -> ChainReport:
    """Walk the log in id order; the first event whose MAC or link is wrong is named."""
    key = key or db.audit_key
    if key is None:
        raise AuditKeyMissing()
    want = f"hmac:{key_id(key)}"
    prev_hash = GENESIS
    prev_id = 0
    checked = legacy = 0
    anchor_seen = anchor is None or anchor.last_event_id == 0
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
                if ev.scheme == LEGACY:
                    if legacy != checked:  # a legacy event after a keyed one: forged
                        return ChainReport(False, checked, ev.id, "audit.verify.reason_hash")
                    if _legacy_digest(ev) != ev.hash:
                        return ChainReport(False, checked, ev.id, "audit.verify.reason_hash")
                    legacy += 1
                else:
                    if ev.scheme != want:
                        return ChainReport(False, checked, ev.id, "audit.verify.reason_key",
                                           {"needs": ev.scheme.removeprefix("hmac:"),
                                            "given": key_id(key)})
                    if payload_digest(ev.before, ev.after) != ev.payload_digest \
                            and ev.before + ev.after != REDACTED * 2:
                        return ChainReport(False, checked, ev.id, "audit.verify.reason_payload")
                    if not hmac.compare_digest(_mac(key, ev), ev.hash):
                        return ChainReport(False, checked, ev.id, "audit.verify.reason_hash")
                if anchor is not None and ev.id == anchor.last_event_id:
                    if ev.hash != anchor.hash:
                        return ChainReport(False, checked, ev.id, "audit.verify.reason_anchor")
                    anchor_seen = True
                prev_hash, prev_id = ev.hash, ev.id or 0
                checked += 1
            last_id = rows[-1].id or 0
        head = session.get(AuditHead, 1)
        empty_but_used = checked == 0 and _holds_data(session)
    if empty_but_used:
        return ChainReport(False, 0, None, "audit.verify.reason_empty")
    if head is not None and (head.last_event_id != prev_id or head.last_hash != prev_hash):
        return ChainReport(False, checked, head.last_event_id, "audit.verify.reason_tail")
    if head is None and checked:
        return ChainReport(False, checked, prev_id, "audit.verify.reason_tail")
    if not anchor_seen or (anchor is not None and checked < anchor.count):
        return ChainReport(False, checked, anchor.last_event_id if anchor else None,
                           "audit.verify.reason_anchor")
    return ChainReport(True, checked, legacy=legacy)


def redact_payloads(db: Database, session: Session, event_ids: Sequence[int]) -> int:
    """Replace these events' before/after by a redaction marker; the digest (and so the chain)
    stays. For PIPL deletion: the personal values leave the log, the proof of the change stays.
    Legacy (unkeyed) events are re-keyed first by `rekey_legacy`, so only keyed ones qualify."""
    if not event_ids:
        return 0
    result = session.execute(
        update(AuditEvent)
        .where(AuditEvent.id.in_(list(event_ids)), AuditEvent.scheme != LEGACY)  # type: ignore[union-attr]
        .values(before=REDACTED, after=REDACTED))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def rekey_legacy(db: Database, batch: int = 2000) -> int:
    """Re-chain events made before keyed MACs under the audit key, after checking their old
    digests (`crm db upgrade` does this when the key is at hand). Returns how many."""
    if db.audit_key is None:
        raise AuditKeyMissing()
    report = verify_chain(db)
    if not report.ok or report.legacy == 0:
        return 0
    scheme = f"hmac:{key_id(db.audit_key)}"
    prev_hash = GENESIS
    done = 0
    last_id = 0
    with db.write() as session:  # one transaction: all re-keyed or none
        db.lock_audit_chain(session)
        while True:
            rows = session.scalars(select(AuditEvent).where(AuditEvent.id > last_id)
                                   .order_by(AuditEvent.id).limit(batch)).all()
            if not rows:
                break
            for ev in rows:
                if ev.scheme == LEGACY:
                    ev.payload_digest = payload_digest(ev.before, ev.after)
                    ev.scheme = scheme
                    done += 1
                ev.prev_hash = prev_hash
                ev.hash = _mac(db.audit_key, ev)
                prev_hash = ev.hash
                session.add(ev)
            session.flush()
            last_id = rows[-1].id or 0
        head = session.get(AuditHead, 1)
        if head is not None:
            head.last_hash = prev_hash
            session.add(head)
    return done


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

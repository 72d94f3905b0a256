"""The notification centre: one inbox per staff member that every area writes to.

Messages are catalog keys with parameters, translated by whoever shows them. `notify`
writes in the caller's transaction; a `dedupe_key` makes a job's notification idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session

from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.store.models_workflow import Notification
from crm_tui.store.types import utcnow

PAGE = 50


@dataclass(frozen=True)
class NotificationView:
    id: int
    kind: str
    message_key: str
    params: dict[str, Any]
    entity: str | None
    entity_id: int | None
    created_at: datetime
    read: bool


def notify(session: Session, staff_id: int, kind: str, message_key: str,
           params: dict[str, Any] | None = None, *, entity: str | None = None,
           entity_id: int | None = None, dedupe_key: str | None = None) -> bool:
    """Put one message in a staff member's inbox; False when `dedupe_key` was used already."""
    if dedupe_key is not None and session.scalar(
            select(Notification.id).where(Notification.dedupe_key == dedupe_key)) is not None:
        return False
    session.add(Notification(staff_id=staff_id, kind=kind, message_key=message_key,
                             params=params or {}, entity=entity, entity_id=entity_id,
                             dedupe_key=dedupe_key, created_at=utcnow()))
    session.flush()
    return True


def _view(n: Notification) -> NotificationView:
    return NotificationView(n.id or 0, n.kind, n.message_key, dict(n.params or {}), n.entity,
                            n.entity_id, n.created_at, n.read_at is not None)


def list_notifications(crm: Crm, actor: Actor, *, unread_only: bool = False,
                       before_id: int | None = None, limit: int = PAGE) -> list[NotificationView]:
    """The actor's own notifications, newest first, keyset-paged on id."""
    if actor.id is None:
        return []
    q = select(Notification).where(Notification.staff_id == actor.id)
    if unread_only:
        q = q.where(Notification.read_at.is_(None))  # type: ignore[union-attr]
    if before_id is not None:
        q = q.where(Notification.id < before_id)  # type: ignore[operator]
    q = q.order_by(Notification.id.desc()).limit(limit)  # type: ignore[union-attr]
    with crm.db.read() as session:
        return [_view(n) for n in session.scalars(q)]


def unread_count(crm: Crm, actor: Actor) -> int:
    if actor.id is None:
        return 0
    with crm.db.read() as session:
        return session.scalar(select(func.count()).select_from(Notification).where(
            Notification.staff_id == actor.id,
            Notification.read_at.is_(None))) or 0  # type: ignore[union-attr]


def mark_read(crm: Crm, actor: Actor, ids: list[int] | None = None) -> int:
    """Mark the given notifications (or all) of the actor read; returns how many changed.
    Only one's own: another person's id is silently outside the WHERE clause."""
    if actor.id is None:
        return 0
    q = (update(Notification)
         .where(Notification.staff_id == actor.id,
                Notification.read_at.is_(None))  # type: ignore[union-attr]
         .values(read_at=utcnow()))
    if ids is not None:
        q = q.where(Notification.id.in_(ids))  # type: ignore[union-attr]
    with crm.db.write() as session:
        return session.execute(q).rowcount or 0  # type: ignore[attr-defined]

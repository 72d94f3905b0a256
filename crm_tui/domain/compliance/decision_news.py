"""The decisions on her requests a maker has not looked at yet (the badge on "我的申请"):
the notifications approvals.notify_maker writes, counted and marked seen."""

from __future__ import annotations

from sqlalchemy import func, select, update

from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.store.models_workflow import Notification
from crm_tui.store.types import utcnow

KIND = "approval_closed"
"""What approvals.notify_maker writes when a request closes."""


def unseen_decisions(crm: Crm, actor: Actor) -> int:
    if actor.id is None:
        return 0
    with crm.db.read() as session:
        return session.scalar(select(func.count()).select_from(Notification).where(
            Notification.staff_id == actor.id, Notification.kind == KIND,
            Notification.read_at.is_(None))) or 0  # type: ignore[union-attr]


def mark_decisions_seen(crm: Crm, actor: Actor) -> int:
    """She opened "我的申请": the badge goes."""
    if actor.id is None:
        return 0
    with crm.db.write() as session:
        result = session.execute(update(Notification).where(
            Notification.staff_id == actor.id, Notification.kind == KIND,
            Notification.read_at.is_(None)).values(read_at=utcnow()))  # type: ignore[union-attr]
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

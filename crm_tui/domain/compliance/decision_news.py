"""Telling the maker her request was decided: one notification per closed request, and
the count of those she has not looked at yet (the badge on "我的申请")."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlmodel import Session

from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.workflow.notifications import notify
from crm_tui.store.models_compliance import ApprovalRequest
from crm_tui.store.models_workflow import Notification
from crm_tui.store.types import utcnow

KIND = "approval_decided"


def tell_maker(session: Session, req: ApprovalRequest, actor: Actor) -> None:
    """In the deciding transaction; nothing when the maker closed it herself (withdraw)."""
    if req.maker_id is None or req.maker_id == actor.id:
        return
    notify(session, req.maker_id, KIND, f"compliance.notify.{req.status}", {"id": req.id},
           entity="approval_request", entity_id=req.id,
           dedupe_key=f"{KIND}:{req.id}")


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

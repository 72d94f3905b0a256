"""Who may decide an approval request: a staff member's place (role, branch, team, read from
the database now, not from the session), the level's scope, and the reason code when she may
not. Shared by the engine (`approvals`) and its read side (`approval_views`), so a request
shows in an inbox exactly when approving it would be allowed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlmodel import Session

from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.errors import PermissionDenied
from crm_tui.domain.kernel.permissions import Perm
from crm_tui.store.models import Staff
from crm_tui.store.models_compliance import ApprovalDecision, ApprovalRequest


def actor_ref(actor: Actor) -> str:
    """The never-NULL name the database compares for maker ≠ checker."""
    return f"staff:{actor.id}" if actor.id is not None else f"system:{actor.username}"


@dataclass(frozen=True)
class Place:
    """A staff member as the database knows her right now (role, branch, team)."""

    id: int | None
    ref: str
    name: str
    role: str
    branch_id: int | None
    team_id: int | None


def place(session: Session, actor: Actor) -> Place:
    if actor.id is None:
        return Place(None, actor_ref(actor), actor.username, actor.role, None, None)
    staff = session.get(Staff, actor.id)
    if staff is None or not staff.active:
        raise PermissionDenied(role=actor.role, action=Perm.APPROVAL_DECIDE.value)
    return Place(staff.id, actor_ref(actor), staff.username, staff.role, staff.branch_id,
                  staff.team_id)


def in_scope(scope: str | None, who: Place, req: ApprovalRequest) -> bool:
    if scope == "any":
        return True
    if scope == "branch":
        return who.branch_id is not None and who.branch_id == req.branch_id
    if scope == "team":
        return who.team_id is not None and who.team_id == req.team_id
    return False


def scope_clause(who: Place) -> ColumnElement[bool]:
    """SQL twin of `in_scope` for the inbox query."""
    team = (and_(ApprovalRequest.next_scope == "team", ApprovalRequest.team_id == who.team_id)
            if who.team_id is not None else false())
    branch = (and_(ApprovalRequest.next_scope == "branch",
                   ApprovalRequest.branch_id == who.branch_id)
              if who.branch_id is not None else false())
    return or_(ApprovalRequest.next_scope == "any", team, branch)


def why_not(session: Session, req: ApprovalRequest, who: Place) -> str | None:
    """The catalog key saying why `who` may not decide `req`'s current level, or None."""
    if req.status != "pending":
        return "compliance.error.closed"
    if who.ref == req.maker_ref:
        return "compliance.error.own_request"
    if who.role != req.next_role:
        return "compliance.error.wrong_role"
    if not in_scope(req.next_scope, who, req):
        return "compliance.error.out_of_scope"
    if who.id is not None and session.scalar(
        select(ApprovalDecision.id).where(ApprovalDecision.request_id == req.id,
                                          ApprovalDecision.decider_id == who.id)
    ):
        return "compliance.error.already_decided"
    return None

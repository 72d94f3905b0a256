"""SLA breaches: a ticket past its next deadline (clock not paused) is flagged `breached`
and its assignee and the supervisors (the branch head for the service desk) are notified.
`escalated_at` at or after the deadline marks it done, so a second run for the same moment
escalates nothing, and a later deadline (resolution after first response, or after a
pause) escalates again when it passes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.permissions import Role
from crm_tui.domain.workflow.notifications import notify
from crm_tui.store.models import Staff
from crm_tui.store.models_service import Ticket

JOB_ACTOR = Actor(id=None, username="jobs", display_name="jobs", role=Role.ADMIN.value)
BATCH = 500


def _recipients(session, ticket: Ticket) -> set[int]:  # type: ignore[no-untyped-def]
    """The assignee, the supervisors of the ticket's team and of the assignee's team; the
    branch head when no team is involved (the service desk)."""
    people = {ticket.assignee_id} if ticket.assignee_id else set()
    teams = {ticket.team_id} - {None}
    if ticket.assignee_id:
        teams |= {session.scalar(select(Staff.team_id).where(Staff.id == ticket.assignee_id))} - {None}
    if teams:
        q = select(Staff.id).where(Staff.team_id.in_(teams),  # type: ignore[union-attr]
                                   Staff.role == Role.SUPERVISOR.value, Staff.active)
    else:
        q = select(Staff.id).where(Staff.branch_id == ticket.branch_id,
                                   Staff.role == Role.BRANCH_HEAD.value, Staff.active)
    people.update(session.scalars(q))
    return {p for p in people if p is not None}


def escalate_breaches(crm: Crm, now: datetime) -> int:
    done = 0
    while True:
        with crm.db.write() as session:
            due = session.scalars(
                select(Ticket).where(
                    Ticket.next_due_at <= now,  # type: ignore[operator]
                    Ticket.paused_at.is_(None),  # type: ignore[union-attr]
                    or_(Ticket.escalated_at.is_(None),  # type: ignore[union-attr]
                        Ticket.escalated_at < Ticket.next_due_at))  # type: ignore[operator]
                .order_by(Ticket.next_due_at, Ticket.id).limit(BATCH)).all()
            for ticket in due:
                which = "first_response" if ticket.first_response_at is None else "resolution"
                ticket.breached = True
                ticket.escalated_at = now
                session.add(ticket)
                for staff_id in sorted(_recipients(session, ticket)):
                    notify(session, staff_id, "ticket", f"service.notify.breach_{which}",
                           {"id": ticket.id, "subject": ticket.subject},
                           entity="ticket", entity_id=ticket.id,
                           dedupe_key=f"ticket:{ticket.id}:breach:{which}:"
                                      f"{ticket.next_due_at:%Y%m%d%H%M}:{staff_id}")
                audit.record(crm.db, session, JOB_ACTOR, "ticket.escalate", "ticket", ticket.id,
                             None, {"deadline": which, "due": ticket.next_due_at})
            done += len(due)
        if len(due) < BATCH:
            return done

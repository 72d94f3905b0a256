"""Closed-loop complaints: receive → grade → investigate → resolve → customer feedback →
internal review. Each step is timestamped and owned and comes only after the one before
it (a skipped step is refused, naming the step that is due); a level the policy lists in
`notify_levels` notifies the branch head(s) and compliance. The ticket follows the loop:
resolving the complaint resolves its ticket, the review lets it close.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session

from crm_tui.domain.customers.last_contact import note_contact
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import Blocked, FieldError, NotFound, ValidationFailed
from crm_tui.domain.kernel.errors import translate as t
from crm_tui.domain.kernel.messages import label
from crm_tui.domain.kernel.permissions import Role
from crm_tui.domain.kernel.validation import normalise_text
from crm_tui.domain.service.tickets import WORKERS, ticket_scope
from crm_tui.domain.workflow.notifications import notify
from crm_tui.domain.workflow.tasks import cancel_tasks, create_task
from crm_tui.store.models import Interaction, Staff
from crm_tui.store.models_service import Complaint, Ticket
from crm_tui.store.types import utcnow

STEPS = ("received", "graded", "investigated", "resolved", "feedback", "reviewed")
TEXT_MAX = 2000
# Who may act on a complaint: the front line, and compliance for the internal review.
ACTORS = WORKERS | {Role.COMPLIANCE.value}


@dataclass(frozen=True)
class StepView:
    step: str
    done: bool
    at: datetime | None
    by: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class ComplaintView:
    id: int
    ticket_id: int
    subject: str
    customer_id: int
    step: str
    next_step: str | None
    level: str | None
    due_at: datetime
    steps: tuple[StepView, ...]


def _text(value: str, field: str) -> str:
    text = normalise_text(value or "")
    if not text:
        raise ValidationFailed([FieldError(field, "validation.required", {})])
    if len(text) > TEXT_MAX:
        raise ValidationFailed([FieldError(field, "validation.too_long", {"max": TEXT_MAX})])
    return text


def _load(session: Session, actor: Actor, complaint_id: int) -> tuple[Complaint, Ticket]:
    if actor.role not in ACTORS:
        raise NotFound("service.error.complaint_not_found", id=complaint_id)
    found = session.execute(select(Complaint, Ticket).join(Ticket, Ticket.id == Complaint.ticket_id)
                            .where(Complaint.id == complaint_id, ticket_scope(actor))).first()
    if found is None:
        raise NotFound("service.error.complaint_not_found", id=complaint_id)
    return found[0], found[1]


def _advance(c: Complaint, step: str) -> None:
    """Refuse `step` unless it is the one after the complaint's current step."""
    expected = STEPS[STEPS.index(c.step) + 1] if c.step != STEPS[-1] else None
    if step != expected:
        raise Blocked("service.error.complaint_step", id=c.id,
                      current=label("service.step", c.step),
                      expected=label("service.step", expected) if expected else "—",
                      step=label("service.step", step))
    c.step = step


def _staff_id(session: Session, username: str, field: str) -> int:
    row = session.scalars(select(Staff).where(Staff.username == username)).first()
    if row is None or not row.active or row.role not in ACTORS:
        raise ValidationFailed([FieldError(field, "service.error.no_such_worker",
                                           {"username": username})])
    return row.id or 0


def _write(crm: Crm, actor: Actor, complaint_id: int, step: str, apply: Any) -> None:
    with crm.db.write() as session:
        c, ticket = _load(session, actor, complaint_id)
        _advance(c, step)
        after = apply(session, c, ticket, utcnow())
        session.add(c)
        session.flush()
        audit.record(crm.db, session, actor, f"complaint.{step}", "complaint", c.id,
                     None, {"ticket_id": ticket.id, **after})


def grade(crm: Crm, actor: Actor, complaint_id: int, level: str) -> None:
    policy = crm.policy().service.complaints
    if level not in policy.levels:
        raise ValidationFailed([FieldError("level", "service.error.level",
                                           {"value": level, "levels": ", ".join(policy.levels)})])

    def apply(session: Session, c: Complaint, ticket: Ticket, now: datetime) -> dict[str, Any]:
        c.level, c.graded_at, c.graded_by = level, now, actor.id
        if level in policy.notify_levels:
            heads = select(Staff.id).where(Staff.active, or_(
                Staff.role == Role.COMPLIANCE.value,  # type: ignore[arg-type]
                (Staff.role == Role.BRANCH_HEAD.value) & (Staff.branch_id == ticket.branch_id)))
            for staff_id in session.scalars(heads):
                notify(session, staff_id, "complaint", "service.notify.major_complaint",
                       {"id": c.id, "ticket_id": ticket.id, "subject": ticket.subject},
                       entity="complaint", entity_id=c.id,
                       dedupe_key=f"complaint:{c.id}:level:{level}:{staff_id}")
        return {"level": level}
    _write(crm, actor, complaint_id, "graded", apply)


def investigate(crm: Crm, actor: Actor, complaint_id: int, owner: str, findings: str) -> None:
    text = _text(findings, "findings")

    def apply(session: Session, c: Complaint, ticket: Ticket, now: datetime) -> dict[str, Any]:
        c.investigator_id = _staff_id(session, owner, "owner")
        c.findings, c.investigated_at, c.investigated_by = text, now, actor.id
        return {"investigator_id": c.investigator_id, "findings": text}
    _write(crm, actor, complaint_id, "investigated", apply)


def resolve(crm: Crm, actor: Actor, complaint_id: int, remedy: str) -> None:
    """The remedy; the ticket becomes resolved with it as the note."""
    text = _text(remedy, "remedy")

    def apply(session: Session, c: Complaint, ticket: Ticket, now: datetime) -> dict[str, Any]:
        c.remedy, c.resolved_at, c.resolved_by = text, now, actor.id
        if ticket.state not in ("resolved", "closed"):
            ticket.state, ticket.resolved_at, ticket.next_due_at = "resolved", now, None
            ticket.resolution_note = text
            ticket.first_response_at = ticket.first_response_at or now
            ticket.first_contact_resolution = False
            ticket.paused_at = None
            ticket.assignee_id = ticket.assignee_id or actor.id
            ticket.version += 1
            session.add(ticket)
            cancel_tasks(crm.db, session, actor, entity="ticket", entity_id=ticket.id or 0,
                         kind="ticket")
        return {"remedy": text}
    _write(crm, actor, complaint_id, "resolved", apply)


def record_feedback(crm: Crm, actor: Actor, complaint_id: int, feedback: str,
                    satisfied: bool) -> None:
    """What the customer said about the remedy; logged on the customer as an interaction."""
    text = _text(feedback, "feedback")

    def apply(session: Session, c: Complaint, ticket: Ticket, now: datetime) -> dict[str, Any]:
        c.feedback, c.satisfied, c.feedback_at, c.feedback_by = text, satisfied, now, actor.id
        # the interaction's subject is stored text, in the language of the one who logged it
        session.add(Interaction(customer_id=ticket.customer_id, staff_id=actor.id, channel="phone",
                                occurred_at=now, summary=text,
                                subject=t("service.interaction.complaint_feedback", id=c.id)))
        note_contact(session, ticket.customer_id, now)
        return {"feedback": text, "satisfied": satisfied}
    _write(crm, actor, complaint_id, "feedback", apply)


def review(crm: Crm, actor: Actor, complaint_id: int, root_cause: str, corrective_action: str,
           owner: str, due_at: datetime | None = None) -> None:
    """The internal review (复盘): root cause, corrective action and who carries it out
    (a task for that person)."""
    cause = _text(root_cause, "root_cause")
    action = _text(corrective_action, "corrective_action")

    def apply(session: Session, c: Complaint, ticket: Ticket, now: datetime) -> dict[str, Any]:
        from datetime import timedelta

        c.action_owner_id = _staff_id(session, owner, "owner")
        c.root_cause, c.corrective_action = cause, action
        c.reviewed_at, c.reviewed_by = now, actor.id
        create_task(crm.db, session, actor, owner_id=c.action_owner_id, kind="complaint",
                    title_key="service.task.complaint_action", params={"id": c.id},
                    customer_id=ticket.customer_id, entity="complaint", entity_id=c.id,
                    due_at=due_at or now + timedelta(days=14), dedupe_key=f"complaint:{c.id}:action")
        return {"root_cause": cause, "corrective_action": action,
                "action_owner_id": c.action_owner_id}
    _write(crm, actor, complaint_id, "reviewed", apply)


def complaint_for_ticket(crm: Crm, actor: Actor, ticket_id: int) -> ComplaintView | None:
    with crm.db.read() as session:
        cid = session.scalar(select(Complaint.id).join(Ticket, Ticket.id == Complaint.ticket_id)
                             .where(Complaint.ticket_id == ticket_id, ticket_scope(actor)))
    return get_complaint(crm, actor, cid) if cid is not None else None


def get_complaint(crm: Crm, actor: Actor, complaint_id: int) -> ComplaintView:
    with crm.db.read() as session:
        c, ticket = _load(session, actor, complaint_id)
        ids = {c.received_by, c.graded_by, c.investigated_by, c.resolved_by, c.feedback_by,
               c.reviewed_by, c.investigator_id, c.action_owner_id} - {None}
        names = dict(session.execute(select(Staff.id, Staff.username)
                                     .where(Staff.id.in_(ids))).all())  # type: ignore[union-attr]
    def who(i: int | None) -> str | None:
        return names.get(i) if i is not None else None
    steps = (
        StepView("received", True, c.received_at, who(c.received_by), {}),
        StepView("graded", c.graded_at is not None, c.graded_at, who(c.graded_by),
                 {"level": c.level} if c.level else {}),
        StepView("investigated", c.investigated_at is not None, c.investigated_at,
                 who(c.investigated_by),
                 {"owner": who(c.investigator_id), "findings": c.findings} if c.findings else {}),
        StepView("resolved", c.resolved_at is not None, c.resolved_at, who(c.resolved_by),
                 {"remedy": c.remedy} if c.remedy else {}),
        StepView("feedback", c.feedback_at is not None, c.feedback_at, who(c.feedback_by),
                 {"feedback": c.feedback, "satisfied": c.satisfied} if c.feedback else {}),
        StepView("reviewed", c.reviewed_at is not None, c.reviewed_at, who(c.reviewed_by),
                 {"root_cause": c.root_cause, "corrective_action": c.corrective_action,
                  "owner": who(c.action_owner_id)} if c.root_cause else {}),
    )
    index = STEPS.index(c.step)
    return ComplaintView(c.id or 0, ticket.id or 0, ticket.subject, ticket.customer_id, c.step,
                         STEPS[index + 1] if index + 1 < len(STEPS) else None, c.level, c.due_at,
                         steps)

"""Tickets: created from the customer screen or a file, routed by the policy, worked
through the state machine with SLA clocks in business time.

States: new → assigned → in_progress → waiting_customer (clock paused) → in_progress →
resolved → closed, and reopen (resolved/closed → in_progress). Every change checks the
actor and the record scope, writes the ticket and its audit event in one transaction, and
a refused transition raises `Blocked` with the reason.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select, true
from sqlmodel import Session

from crm_tui.domain.customers.last_contact import note_contact
from crm_tui.domain.customers.scope import load_in_scope
from crm_tui.domain.forms.values import stored_for_new
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import (
    Blocked,
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from crm_tui.domain.kernel.messages import Msg, label
from crm_tui.domain.kernel.permissions import Role, customer_scope
from crm_tui.domain.kernel.validation import normalise_text
from crm_tui.domain.policy.service_policy import ServicePolicy
from crm_tui.domain.service.calendar import (
    add_business_hours,
    add_business_seconds,
    business_seconds_between,
)
from crm_tui.domain.service.ticket_fields import clean_ticket
from crm_tui.domain.workflow.tasks import cancel_tasks, create_task
from crm_tui.store.models import Customer, Interaction, Staff, Team
from crm_tui.store.models_service import Complaint, Ticket
from crm_tui.store.types import utcnow

WORKERS = frozenset({Role.RM.value, Role.SUPERVISOR.value, Role.BRANCH_HEAD.value,
                     Role.SERVICE.value})
STATES = ("new", "assigned", "in_progress", "waiting_customer", "resolved", "closed")
OPEN_STATES = ("new", "assigned", "in_progress", "waiting_customer")
# target → the states it may be reached from
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "assigned": ("new", "assigned", "in_progress"),
    "in_progress": ("assigned", "waiting_customer", "resolved", "closed"),
    "waiting_customer": ("in_progress",),
    "resolved": ("new", "assigned", "in_progress"),
    "closed": ("resolved",),
}
NOTE_MAX = 2000


def require_worker(actor: Actor, action: str) -> None:
    if actor.role not in WORKERS:
        raise PermissionDenied(role=actor.role, action=action)


def ticket_scope(actor: Actor) -> ColumnElement[bool]:
    """Tickets the actor may see: service desk and branch head their branch's; RMs and
    supervisors those of customers in their book and those assigned to them; compliance and
    risk every branch; the system (CLI) everything."""
    if actor.id is None and actor.role == Role.ADMIN.value:
        return true()
    if actor.role in (Role.COMPLIANCE.value, Role.RISK.value):
        return true()
    if actor.role in (Role.SERVICE.value, Role.BRANCH_HEAD.value):
        return Ticket.branch_id == actor.branch_id  # type: ignore[return-value]
    if actor.role in (Role.RM.value, Role.SUPERVISOR.value):
        book = select(Customer.id).where(customer_scope(actor))
        return or_(Ticket.assignee_id == actor.id,  # type: ignore[arg-type]
                   Ticket.customer_id.in_(book))  # type: ignore[attr-defined]
    return Ticket.id.is_(None)  # type: ignore[union-attr]


def sla_deadlines(policy: ServicePolicy, ticket_type: str, priority: str,
                  created_at: datetime) -> tuple[datetime, datetime]:
    """(first response due, resolution due); a complaint is also capped at the policy's
    calendar days from receipt."""
    target = policy.sla[priority]  # type: ignore[index]
    cal = policy.calendar
    first = add_business_hours(cal, created_at, float(target.first_response_hours))
    resolution = add_business_hours(cal, created_at, float(target.resolution_hours))
    if ticket_type == "complaint":
        resolution = min(resolution, created_at + timedelta(days=policy.complaints.resolution_days))
        first = min(first, resolution)
    return first, resolution


def _next_due(t: Ticket) -> datetime | None:
    if t.state in ("resolved", "closed"):
        return None
    return t.first_response_due if t.first_response_at is None else t.resolution_due


def _team_for(session: Session, branch_id: int | None, name: str) -> int | None:
    if not name or branch_id is None:
        return None
    return session.scalar(select(Team.id).where(Team.branch_id == branch_id, Team.name == name))


def new_ticket_row(session: Session, policy: ServicePolicy, customer: Customer,
                   values: dict[str, Any], *, created_by: int | None,
                   created_at: datetime) -> Ticket:
    """A routed ticket with its deadlines (not yet added); shared by the form and imports."""
    route = policy.route(values["type"], values["priority"])
    first, resolution = sla_deadlines(policy, values["type"], values["priority"], created_at)
    ticket = Ticket(customer_id=customer.id or 0, branch_id=customer.branch_id,
                    type=values["type"], priority=values["priority"], state="new",
                    queue=route.queue, team_id=_team_for(session, customer.branch_id, route.team),
                    subject=values["subject"], description=values.get("description") or "",
                    channel=values.get("channel") or "branch", created_by=created_by,
                    created_at=created_at, first_response_due=first, resolution_due=resolution)
    ticket.next_due_at = _next_due(ticket)
    return ticket


def open_complaint(session: Session, policy: ServicePolicy, ticket: Ticket,
                   received_by: int | None) -> None:
    session.add(Complaint(ticket_id=ticket.id or 0, step="received", received_at=ticket.created_at,
                          received_by=received_by,
                          due_at=ticket.created_at + timedelta(days=policy.complaints.resolution_days)))


def create_ticket(crm: Crm, actor: Actor, customer_id: int, raw: dict[str, Any],
                  *, now: datetime | None = None) -> int:
    """A new ticket for a customer in the actor's book (service agents: their branch)."""
    require_worker(actor, "ticket.create")
    values, errors = clean_ticket(raw)
    try:
        custom = stored_for_new(crm, "ticket", raw.get("custom"))
    except ValidationFailed as exc:
        errors = [*errors, *exc.errors]
    if errors:
        raise ValidationFailed(errors)
    policy = crm.policy().service
    at = now or utcnow()
    with crm.db.write() as session:
        customer = load_in_scope(session, actor, customer_id)
        ticket = new_ticket_row(session, policy, customer, values, created_by=actor.id,
                                created_at=at)
        ticket.custom = custom
        session.add(ticket)
        session.flush()
        if ticket.type == "complaint":
            open_complaint(session, policy, ticket, actor.id)
        audit.record(crm.db, session, actor, "ticket.create", "ticket", ticket.id, None,
                     {"customer_id": customer_id, "type": ticket.type, "priority": ticket.priority,
                      "queue": ticket.queue, "first_response_due": ticket.first_response_due,
                      "resolution_due": ticket.resolution_due})
        return ticket.id or 0


# -- working a ticket ------------------------------------------------------------------------


def _load(session: Session, actor: Actor, ticket_id: int, version: int | None) -> Ticket:
    # FOR UPDATE: on PostgreSQL two agents otherwise both pass the version check and the
    # second overwrites the first (found by tests/test_concurrency.py); SQLite ignores it.
    ticket = session.scalars(select(Ticket).where(Ticket.id == ticket_id,
                                                  ticket_scope(actor)).with_for_update()).first()
    if ticket is None:
        raise NotFound("service.error.ticket_not_found", id=ticket_id)
    if version is not None and ticket.version != version:
        raise Conflict()
    return ticket


def _note(text: str, field: str = "note", required: bool = False) -> str:
    value = normalise_text(text or "")
    if required and not value:
        raise ValidationFailed([FieldError(field, "validation.required", {})])
    if len(value) > NOTE_MAX:
        raise ValidationFailed([FieldError(field, "validation.too_long", {"max": NOTE_MAX})])
    return value


class TransitionRefused(Blocked):
    """A state change the machine does not allow; the message names both states and why."""

    key = "service.error.transition"


def _refuse(ticket: Ticket, target: str, reason: str) -> Blocked:
    return TransitionRefused(id=ticket.id, state=label("service.state", ticket.state),
                             target=label("service.state", target),
                             reason=Msg(f"service.reason.{reason}"))


def _check(ticket: Ticket, target: str, session: Session) -> None:
    """Why `ticket` may not move to `target`, as a Blocked error; None when it may."""
    allowed = TRANSITIONS.get(target, ())
    if ticket.state not in allowed:
        raise _refuse(ticket, target, f"from_{ticket.state}")
    if target == "in_progress" and ticket.assignee_id is None:
        raise _refuse(ticket, target, "unassigned")
    if target == "waiting_customer" and ticket.first_response_at is None:
        raise _refuse(ticket, target, "no_response")
    if ticket.type == "complaint" and target in ("resolved", "closed"):
        step = session.scalar(select(Complaint.step).where(Complaint.ticket_id == ticket.id))
        need = "resolved" if target == "resolved" else "reviewed"
        order = ("received", "graded", "investigated", "resolved", "feedback", "reviewed")
        if step is None or order.index(step) < order.index(need):
            raise _refuse(ticket, target, f"complaint_{need}")


def _task_for_assignee(crm: Crm, session: Session, actor: Actor, ticket: Ticket) -> None:
    cancel_tasks(crm.db, session, actor, entity="ticket", entity_id=ticket.id or 0, kind="ticket")
    if ticket.assignee_id is not None and ticket.next_due_at is not None:
        create_task(crm.db, session, actor, owner_id=ticket.assignee_id, kind="ticket",
                    title_key="service.task.ticket", due_at=ticket.next_due_at,
                    params={"id": ticket.id, "subject": ticket.subject},
                    customer_id=ticket.customer_id, entity="ticket", entity_id=ticket.id,
                    dedupe_key=f"ticket:{ticket.id}:v{ticket.version}:{ticket.assignee_id}")


def _apply(crm: Crm, session: Session, actor: Actor, ticket: Ticket, target: str, now: datetime,
           action: str, extra: dict[str, Any] | None = None) -> None:
    before = {"state": ticket.state, "assignee_id": ticket.assignee_id}
    cal = crm.policy().service.calendar
    if ticket.state == "waiting_customer" and target != "waiting_customer" and ticket.paused_at:
        paused = business_seconds_between(cal, ticket.paused_at, now)
        ticket.resolution_due = add_business_seconds(cal, ticket.resolution_due, paused)
        if ticket.type == "complaint":
            cap = session.scalar(select(Complaint.due_at).where(Complaint.ticket_id == ticket.id))
            if cap is not None:
                ticket.resolution_due = min(ticket.resolution_due, cap)
        ticket.paused_at = None
    if target == "waiting_customer":
        ticket.paused_at = now
    if target == "resolved":
        ticket.resolved_at = now
        ticket.first_contact_resolution = ticket.reopened == 0 and not ticket.first_response_at
        if ticket.first_response_at is None:
            ticket.first_response_at = now
    if target == "closed":
        ticket.closed_at = now
    if target == "in_progress" and ticket.state in ("resolved", "closed"):
        ticket.reopened += 1
        ticket.resolved_at = ticket.closed_at = None
        ticket.first_contact_resolution = False
    ticket.state = target
    ticket.next_due_at = _next_due(ticket)
    ticket.version += 1
    session.add(ticket)
    session.flush()
    _task_for_assignee(crm, session, actor, ticket)
    audit.record(crm.db, session, actor, action, "ticket", ticket.id, before,
                 {"state": target, "assignee_id": ticket.assignee_id, **(extra or {})})


def assign_ticket(crm: Crm, actor: Actor, ticket_id: int, assignee: str | None = None, *,
                  version: int | None = None, now: datetime | None = None) -> None:
    """Give the ticket to `assignee` (a username), or take it (None: the actor)."""
    require_worker(actor, "ticket.assign")
    at = now or utcnow()
    with crm.db.write() as session:
        ticket = _load(session, actor, ticket_id, version)
        if assignee is None:
            staff_id = actor.id
        else:
            row = session.scalars(select(Staff).where(Staff.username == assignee)).first()
            if row is None or not row.active or row.role not in WORKERS:
                raise ValidationFailed([FieldError("assignee", "service.error.no_such_worker",
                                                   {"username": assignee})])
            if row.branch_id != ticket.branch_id:
                raise ValidationFailed([FieldError("assignee", "service.error.other_branch",
                                                   {"username": assignee})])
            staff_id = row.id
        if staff_id is None:
            raise PermissionDenied(role=actor.role, action="ticket.assign")
        _check(ticket, "assigned", session)
        ticket.assignee_id = staff_id
        _apply(crm, session, actor, ticket, "assigned", at, "ticket.assign")


def change_state(crm: Crm, actor: Actor, ticket_id: int, target: str, note: str = "", *,
                 version: int | None = None, now: datetime | None = None) -> None:
    """Move the ticket to `target` ("in_progress", "waiting_customer", "closed", and
    "in_progress" again to resume or reopen); resolving goes through `resolve_ticket`."""
    require_worker(actor, "ticket.state")
    if target not in STATES or target in ("new", "assigned", "resolved"):
        raise ValidationFailed([FieldError("state", "validation.choice", {"value": target})])
    text = _note(note)
    at = now or utcnow()
    with crm.db.write() as session:
        ticket = _load(session, actor, ticket_id, version)
        _check(ticket, target, session)
        action = "ticket.reopen" if ticket.state in ("resolved", "closed") else "ticket.state"
        _apply(crm, session, actor, ticket, target, at, action, {"note": text} if text else None)


def respond(crm: Crm, actor: Actor, ticket_id: int, note: str, *, version: int | None = None,
            now: datetime | None = None) -> None:
    """Answer the customer: the first answer stops the first-response clock; the answer is
    logged as an interaction on the customer; an unassigned ticket becomes the actor's."""
    require_worker(actor, "ticket.respond")
    text = _note(note, required=True)
    at = now or utcnow()
    with crm.db.write() as session:
        ticket = _load(session, actor, ticket_id, version)
        if ticket.state not in ("new", "assigned", "in_progress", "waiting_customer"):
            raise _refuse(ticket, "in_progress", f"from_{ticket.state}")
        if ticket.assignee_id is None:
            ticket.assignee_id = actor.id
        first = ticket.first_response_at is None
        if first:
            ticket.first_response_at = at
        session.add(Interaction(customer_id=ticket.customer_id, staff_id=actor.id,
                                channel=ticket.channel, occurred_at=at,
                                subject=f"#{ticket.id} {ticket.subject}"[:200], summary=text))
        note_contact(session, ticket.customer_id, at)
        target = "in_progress"
        _apply(crm, session, actor, ticket, target, at, "ticket.respond",
               {"first_response": first})


def resolve_ticket(crm: Crm, actor: Actor, ticket_id: int, note: str, *,
                   version: int | None = None, now: datetime | None = None) -> None:
    """Resolve with a note. Resolved with no earlier answer = first-contact resolution."""
    require_worker(actor, "ticket.resolve")
    text = _note(note, required=True)
    at = now or utcnow()
    with crm.db.write() as session:
        ticket = _load(session, actor, ticket_id, version)
        _check(ticket, "resolved", session)
        if ticket.assignee_id is None:
            ticket.assignee_id = actor.id
        ticket.resolution_note = text
        _apply(crm, session, actor, ticket, "resolved", at, "ticket.resolve", {"note": text})


def record_csat(crm: Crm, actor: Actor, ticket_id: int, score: int) -> None:
    """The customer's satisfaction score, 1–5, once the ticket is resolved."""
    require_worker(actor, "ticket.csat")
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationFailed([FieldError("csat", "service.error.csat", {"value": score})])
    with crm.db.write() as session:
        ticket = _load(session, actor, ticket_id, None)
        if ticket.state not in ("resolved", "closed"):
            raise Blocked("service.error.csat_open", id=ticket_id)
        before = ticket.csat
        ticket.csat = score
        ticket.version += 1
        session.add(ticket)
        audit.record(crm.db, session, actor, "ticket.csat", "ticket", ticket_id, {"csat": before},
                     {"csat": score})

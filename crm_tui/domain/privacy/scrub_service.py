"""The service desk's free text about a customer, scrubbed by an approved anonymisation batch
(category `interactions`: a ticket, a complaint and a message are contacts with the customer).

Blanked: tickets' subject, description and resolution note; complaints' findings, remedy,
feedback, root cause and corrective action; outbox messages' subject, body and last error (a
mail server's refusal names the address; the address itself is never stored, it is read from
the profile at sending time); the text copied into tasks and notifications about those
tickets (their `subject`/`name` parameters and the task note). What the KPIs count stays:
type, priority, queue, state, every date and deadline, breaches, CSAT, first-contact
resolution, complaint levels and steps, channels, triggers and send states.

Returns the audit entities whose events carry that text, for `kernel.audit.redact_payloads`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, update
from sqlmodel import Session

from crm_tui.store.models_service import Complaint, OutboxMessage, Ticket
from crm_tui.store.models_workflow import Notification, Task

PERSONAL_PARAMS = ("subject", "name", "customer", "note", "body")


def _blank_params(session: Session, model: Any, where: Any, note: bool) -> list[int]:
    """Drop the personal text from JSON params (kept as "" so the message keys still render)."""
    changed = []
    for row_id, params, *rest in session.execute(
            select(model.id, model.params, *([model.note] if note else [])).where(where)).all():
        clean = {k: ("" if k in PERSONAL_PARAMS else v) for k, v in (params or {}).items()}
        if clean != params or (note and rest[0]):
            values: dict[str, Any] = {"params": clean}
            if note:
                values["note"] = None
            session.execute(update(model).where(model.id == row_id).values(**values))
        changed.append(row_id)
    return changed


def blank_tasks(session: Session, ids: list[int]) -> list[str]:
    """The customers' names and text copied into tasks (a review call, a maturity, a care
    call): the profile category takes them too, whatever the interactions' period."""
    return [str(t) for t in _blank_params(session, Task, Task.customer_id.in_(ids), note=True)]  # type: ignore[union-attr]


def scrub_service(session: Session, ids: list[int]) -> list[tuple[str, list[str]]]:
    """Blank the customers' service text; (audit entity, entity ids) whose payloads hold it."""
    tickets = list(session.scalars(select(Ticket.id).where(Ticket.customer_id.in_(ids))))  # type: ignore[attr-defined]
    complaints: list[int] = []
    if tickets:
        session.execute(update(Ticket).where(Ticket.id.in_(tickets))  # type: ignore[union-attr]
                        .values(subject="", description="", resolution_note=""))
        complaints = list(session.scalars(select(Complaint.id).where(
            Complaint.ticket_id.in_(tickets))))  # type: ignore[attr-defined]
    if complaints:
        session.execute(update(Complaint).where(Complaint.id.in_(complaints))  # type: ignore[union-attr]
                        .values(findings="", remedy="", feedback="", root_cause="",
                                corrective_action=""))
    session.execute(update(OutboxMessage).where(OutboxMessage.customer_id.in_(ids))  # type: ignore[attr-defined]
                    .values(subject="", body="", last_error=""))
    about = [Task.customer_id.in_(ids)]  # type: ignore[union-attr]
    notes_about = []
    for entity, entity_ids in (("ticket", tickets), ("complaint", complaints)):
        if entity_ids:
            about.append((Task.entity == entity) & Task.entity_id.in_(entity_ids))  # type: ignore[union-attr]
            notes_about.append((Notification.entity == entity)
                               & Notification.entity_id.in_(entity_ids))  # type: ignore[union-attr]
    tasks = _blank_params(session, Task, or_(*about), note=True)
    if notes_about:
        _blank_params(session, Notification, or_(*notes_about), note=False)
    return [("ticket", [str(t) for t in tickets]), ("complaint", [str(c) for c in complaints]),
            ("task", [str(t) for t in tasks])]

"""Custom field values on tickets (form engine): the form's view, saving through the
optimistic lock, and a sensitive field's change request. The rules are `forms.values`;
this module says how a ticket is loaded in the actor's scope and who may change it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from crm_tui.domain.compliance.custom_field_changes import request_record_change
from crm_tui.domain.forms import values as V
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import NotFound
from crm_tui.domain.service.tickets import require_worker, ticket_scope
from crm_tui.store.models_service import Ticket


def _ticket(actor: Actor, ticket_id: int) -> V.Loader:
    def load(session: Session) -> Ticket:
        ticket = session.scalars(select(Ticket).where(Ticket.id == ticket_id,
                                                      ticket_scope(actor))).first()
        if ticket is None:
            raise NotFound("service.error.ticket_not_found", id=ticket_id)
        return ticket
    return load


def ticket_custom_view(crm: Crm, actor: Actor, ticket_id: int) -> V.CustomFieldsView:
    return V.view_of(crm, "ticket", _ticket(actor, ticket_id))


def update_ticket_custom(crm: Crm, actor: Actor, ticket_id: int, expected_version: int,
                         raw: dict[str, Any]) -> int:
    """Save a ticket's custom values (the people who work tickets, within their scope)."""
    require_worker(actor, "ticket.update")
    return V.update_custom(crm, actor, "ticket", expected_version, raw, _ticket(actor, ticket_id))


def request_ticket_custom_change(crm: Crm, actor: Actor, ticket_id: int, key: str, value: str,
                                 reason: str, now: datetime | None = None) -> int:
    return request_record_change(crm, actor, "ticket", ticket_id, key, value, reason,
                                 _ticket(actor, ticket_id), customer_id=lambda r: r.customer_id,
                                 name=lambda r: f"#{r.id} {r.subject}", now=now)

"""`crm export leads|opportunities|tickets`: the customer export's rules for the other
entities that carry custom fields.

Each entity's columns are its field-registry declarations (`sales.fields`,
`service.ticket_fields`) with the record's own bookkeeping around them (number, status,
owner, times), labelled in the user's language, then every custom field of the entity,
retired ones included. Rows are the actor's scope (the lead list's, the pipeline board's,
the ticket queue's; the whole book for admin, as for customers), never a record of a
restricted (PIPL) customer. Sensitive values are masked; a role that sees no customers
(admin) gets no personal or free-text column and no custom column. The writing, paging,
formula defusing, 0600 file and audit event are `export_file`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select, true
from sqlalchemy.orm import aliased

from crm_tui.domain.data_io.export_file import (
    Column,
    ExportPlan,
    ExportReport,
    PlanFor,
    Translate,
    column_of,
    custom_columns,
    sees_people,
    visible,
    write_export,
)
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import translate
from crm_tui.domain.kernel.fields import FieldSpec
from crm_tui.domain.kernel.permissions import Role
from crm_tui.domain.sales.board import board_scope
from crm_tui.domain.sales.fields import LEAD_FIELDS, OPPORTUNITY_FIELDS
from crm_tui.domain.sales.leads import lead_scope
from crm_tui.domain.service.ticket_fields import SPECS as TICKET_FIELDS
from crm_tui.domain.service.tickets import ticket_scope
from crm_tui.store.models import Branch, Customer, Product, Staff
from crm_tui.store.models_sales import Lead, Opportunity
from crm_tui.store.models_service import Ticket

ENTITIES = ("lead", "opportunity", "ticket")


def _spec(key: str, label: str, type_: Any = "text", prefix: str | None = None) -> FieldSpec:
    """A system column (number, status, times): not a field anyone types, so not in the
    registry, but exported with a label and a type the same way."""
    return FieldSpec(key, label, type_, choice_prefix=prefix, export_column=key)


def _scoped(actor: Actor, scope: Callable[[Actor], Any]) -> Any:
    # admin exports the whole book, without personal columns, as `crm export customers`
    return true() if actor.role == Role.ADMIN.value else scope(actor)


_OWNER = aliased(Staff)
_CUSTOMER_NAME = FieldSpec("name", "formsdata.col.customer_name", "text", export_column="name")
"""Keyed `name`, so the policy's personal columns withhold it as they withhold a customer's."""


def _lead_columns() -> tuple[Column, ...]:
    # the registry's created_at is the import's parser (text); the export reads the time
    specs = (_spec("id", "formsdata.col.lead_id", "number"),
             *(s for s in LEAD_FIELDS if s.key != "created_at"),
             _spec("status", "formsdata.col.lead_status", "choice", "sales.lead_status"),
             _spec("owner", "field.owner"),
             _spec("customer_id", "formsdata.col.customer_id", "number"),
             _spec("created_at", "formsdata.col.lead_created_at", "datetime"),
             _spec("first_contact_due", "formsdata.col.first_contact_due", "datetime"),
             _spec("first_contact_at", "formsdata.col.first_contact_at", "datetime"))
    return tuple(column_of(Lead, s, {"branch_code": Branch.code, "owner": _OWNER.username})
                 for s in specs)


def _plan(crm: Crm, actor: Actor, entity: str, model: Any, columns: tuple[Column, ...],
          joins: tuple[tuple[Any, Any, bool], ...], *where: Any) -> ExportPlan:
    """SELECT id, the columns this actor may see, custom FROM model + joins WHERE …"""
    shown = visible(crm, actor, columns)
    query = select(model.id, *(c.source for c in shown), model.custom)
    for target, on, outer in joins:
        query = query.join(target, on, isouter=outer)
    return ExportPlan(entity, f"formsdata.sheet.{entity}", shown, query.where(*where), model.id,
                      custom_columns(crm, actor, entity),
                      {"personal_columns": sees_people(actor)})


def lead_plan(crm: Crm, actor: Actor) -> ExportPlan:
    return _plan(crm, actor, "lead", Lead, _lead_columns(), (
        (Branch, Branch.id == Lead.branch_id, True),
        (_OWNER, _OWNER.id == Lead.owner_id, True),
        (Customer, Customer.id == Lead.customer_id, True)),
        _scoped(actor, lead_scope),
        or_(Lead.customer_id.is_(None),  # type: ignore[union-attr]
            Customer.restricted.is_(False)))  # type: ignore[attr-defined]


def _opportunity_columns() -> tuple[Column, ...]:
    specs = (_spec("id", "formsdata.col.opportunity_id", "number"),
             _spec("customer_id", "formsdata.col.customer_id", "number"), _CUSTOMER_NAME,
             _spec("stage", "formsdata.col.stage", "choice", "sales.stage"),
             *OPPORTUNITY_FIELDS,
             _spec("owner", "field.owner"),
             _spec("branch_code", "field.branch_code"),
             _spec("created_at", "formsdata.col.opportunity_created_at", "datetime"),
             _spec("stage_entered_at", "formsdata.col.stage_entered_at", "datetime"),
             _spec("closed_at", "formsdata.col.opportunity_closed_at", "datetime"),
             _spec("lost_reason", "field.lost_reason"))
    joined = {"name": Customer.name, "product_code": Product.code, "owner": _OWNER.username,
              "branch_code": Branch.code}
    return tuple(column_of(Opportunity, s, joined) for s in specs)


def opportunity_plan(crm: Crm, actor: Actor) -> ExportPlan:
    return _plan(crm, actor, "opportunity", Opportunity, _opportunity_columns(), (
        (Customer, Customer.id == Opportunity.customer_id, False),
        (Product, Product.id == Opportunity.product_id, True),
        (_OWNER, _OWNER.id == Opportunity.owner_id, True),
        (Branch, Branch.id == Opportunity.branch_id, True)),
        _scoped(actor, board_scope), Customer.restricted.is_(False))  # type: ignore[attr-defined]


def _ticket_columns() -> tuple[Column, ...]:
    specs = (_spec("id", "formsdata.col.ticket_id", "number"),
             _spec("customer_id", "formsdata.col.customer_id", "number"), _CUSTOMER_NAME,
             *TICKET_FIELDS,
             _spec("state", "field.state", "choice", "service.state"),
             _spec("queue", "formsdata.col.queue", "choice", "service.queue"),
             _spec("assignee", "field.assignee"),
             _spec("branch_code", "field.branch_code"),
             _spec("created_at", "field.ticket_created_at", "datetime"),
             _spec("first_response_due", "formsdata.col.first_response_due", "datetime"),
             _spec("first_response_at", "formsdata.col.first_response_at", "datetime"),
             _spec("resolution_due", "formsdata.col.resolution_due", "datetime"),
             _spec("resolved_at", "formsdata.col.resolved_at", "datetime"),
             _spec("closed_at", "formsdata.col.ticket_closed_at", "datetime"),
             _spec("breached", "formsdata.col.breached", "bool"),
             _spec("csat", "field.csat", "number"))
    joined = {"name": Customer.name, "assignee": _OWNER.username, "branch_code": Branch.code}
    return tuple(column_of(Ticket, s, joined) for s in specs)


def ticket_plan(crm: Crm, actor: Actor) -> ExportPlan:
    return _plan(crm, actor, "ticket", Ticket, _ticket_columns(), (
        (Customer, Customer.id == Ticket.customer_id, False),
        (_OWNER, _OWNER.id == Ticket.assignee_id, True),
        (Branch, Branch.id == Ticket.branch_id, True)),
        _scoped(actor, ticket_scope), Customer.restricted.is_(False))  # type: ignore[attr-defined]


PLANS: dict[str, PlanFor] = {"lead": lead_plan, "opportunity": opportunity_plan,
                             "ticket": ticket_plan}


def export_records(crm: Crm, actor: Actor, entity: str, path: Path, fmt: str = "csv", *,
                   on_progress: Callable[[int], None] | None = None,
                   translate: Translate = translate) -> ExportReport:
    """Write `entity`'s export (lead, opportunity or ticket; see the module docstring)."""
    return write_export(crm, actor, PLANS[entity], path, fmt, on_progress=on_progress,
                        translate=translate)

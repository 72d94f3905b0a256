"""Custom field values on leads and opportunities (form engine): the form's view, saving
through the optimistic lock, and a sensitive field's change request. The rules are
`forms.values`; this module says how a lead or an opportunity is loaded in the actor's
scope and who may change it."""

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
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.sales.leads import lead_scope
from crm_tui.domain.sales.opportunities import load_opportunity
from crm_tui.store.models import Customer
from crm_tui.store.models_sales import Lead


def _lead(actor: Actor, lead_id: int) -> V.Loader:
    def load(session: Session) -> Lead:
        lead = session.scalars(select(Lead).where(Lead.id == lead_id, lead_scope(actor))).first()
        if lead is None:
            raise NotFound("sales.error.lead_not_found", id=lead_id)
        return lead
    return load


def _opportunity(actor: Actor, opp_id: int) -> V.Loader:
    return lambda session: load_opportunity(session, actor, opp_id)


def lead_custom_view(crm: Crm, actor: Actor, lead_id: int) -> V.CustomFieldsView:
    return V.view_of(crm, "lead", _lead(actor, lead_id))


def update_lead_custom(crm: Crm, actor: Actor, lead_id: int, expected_version: int,
                       raw: dict[str, Any]) -> int:
    """Save a lead's custom values (leads in the actor's scope: her own, her team's)."""
    require(actor, Perm.CUSTOMER_EDIT)
    return V.update_custom(crm, actor, "lead", expected_version, raw, _lead(actor, lead_id))


def opportunity_custom_view(crm: Crm, actor: Actor, opp_id: int) -> V.CustomFieldsView:
    require(actor, Perm.CUSTOMER_VIEW)
    return V.view_of(crm, "opportunity", _opportunity(actor, opp_id))


def update_opportunity_custom(crm: Crm, actor: Actor, opp_id: int, expected_version: int,
                              raw: dict[str, Any]) -> int:
    """Save an opportunity's custom values (its customer must be in the actor's book)."""
    require(actor, Perm.CUSTOMER_EDIT)
    return V.update_custom(crm, actor, "opportunity", expected_version, raw,
                           _opportunity(actor, opp_id))


def request_lead_custom_change(crm: Crm, actor: Actor, lead_id: int, key: str, value: str,
                               reason: str, now: datetime | None = None) -> int:
    return request_record_change(crm, actor, "lead", lead_id, key, value, reason,
                                 _lead(actor, lead_id), customer_id=lambda r: r.customer_id,
                                 name=lambda r: r.name, now=now)


def request_opportunity_custom_change(crm: Crm, actor: Actor, opp_id: int, key: str,
                                      value: str, reason: str,
                                      now: datetime | None = None) -> int:
    def name(opp: Any) -> str:
        with crm.db.read() as session:
            return session.scalar(select(Customer.name).where(Customer.id == opp.customer_id)) \
                or f"#{opp.id}"
    return request_record_change(crm, actor, "opportunity", opp_id, key, value, reason,
                                 _opportunity(actor, opp_id),
                                 customer_id=lambda r: r.customer_id, name=name, now=now)

"""Converting a contacted lead: it becomes a customer (or stays linked to the one it
matched, never a duplicate) with the KYC checklist started, and an opportunity in the
needs stage owned by the lead's RM."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from crm_tui.domain.customers.fields import clean_customer, customer_row, stored_index_matches
from crm_tui.domain.customers.tags import evaluate_rule_tags
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import Blocked, FieldError, PermissionDenied, ValidationFailed
from crm_tui.domain.kernel.masking import MASKERS
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.sales.leads import _load, _supervises
from crm_tui.domain.sales.opportunities import open_opportunity
from crm_tui.store.models import Customer, KycDocument
from crm_tui.store.types import utcnow


def convert_lead(crm: Crm, actor: Actor, lead_id: int, extra: dict[str, Any] | None = None,
                 now: datetime | None = None) -> int:
    """Returns the new opportunity's id. `extra` may carry customer fields the lead lacks
    (a national ID, an address); they go through the customer's own validation."""
    require(actor, Perm.CUSTOMER_CREATE)
    now = now or utcnow()
    with crm.db.write() as session:
        lead = _load(session, lead_id)
        if lead.owner_id != actor.id and not _supervises(session, actor, lead):
            raise PermissionDenied(role=actor.role, action="lead.convert")
        if lead.status != "contacted":
            raise Blocked("sales.error.not_contacted" if lead.status in ("new", "assigned")
                          else "sales.error.lead_closed", id=lead_id)
        owner_id = lead.owner_id or actor.id or 0
        customer_id = lead.customer_id
        if customer_id is None:
            raw = {"name": lead.name,
                   "phone": crm.keys.decrypt("phone", lead.phone_enc) if lead.phone_enc else "",
                   "national_id": crm.keys.decrypt("national_id", lead.national_id_enc)
                   if lead.national_id_enc else "", **(extra or {})}
            cleaned, errors = clean_customer(raw, today=now.astimezone(crm.tz).date())
            if errors or cleaned is None:
                raise ValidationFailed(errors)
            if cleaned.national_id and session.scalar(select(Customer.id).where(
                    stored_index_matches(crm.keys, "national_id", cleaned.national_id))):
                raise ValidationFailed([FieldError("national_id", "validation.duplicate_id", {})])
            c = Customer(**customer_row(crm.keys, cleaned, branch_id=lead.branch_id,
                                        rm_id=owner_id))
            c.aum_fen = 0
            session.add(c)
            session.flush()
            customer_id = c.id or 0
            evaluate_rule_tags(session, crm.policy(), [customer_id])
            for kind in crm.policy().kyc.for_kind(c.kind).required:
                if kind != "risk_questionnaire":
                    session.add(KycDocument(customer_id=customer_id, kind=kind, status="pending",
                                            uploaded_at=now, note="lead conversion"))
            audit.record(crm.db, session, actor, "customer.create", "customer", customer_id,
                         None, {"name": c.name, "lead_id": lead.id,
                                "national_id": MASKERS["national_id"](cleaned.national_id)})
        opp = open_opportunity(crm, session, actor, customer_id=customer_id, owner_id=owner_id,
                               amount_fen=lead.estimated_assets_fen, lead_id=lead.id, now=now)
        lead.status, lead.customer_id = "converted", customer_id
        lead.version += 1
        session.add(lead)
        audit.record(crm.db, session, actor, "lead.convert", "lead", lead.id, None,
                     {"customer_id": customer_id, "opportunity_id": opp.id})
        return opp.id or 0

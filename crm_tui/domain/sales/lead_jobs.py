"""The first-contact SLA job: leads past their due time without a contact are marked
breached and escalated to the supervisor (the owner's team supervisors, or the branch's
for an unassigned lead). Idempotent: a breach is marked once, its notifications carry a
dedupe key, so running again for the same `now` changes nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.workflow.notifications import notify
from crm_tui.store.models import Staff
from crm_tui.store.models_sales import Lead

BATCH = 500


def supervisors_for(session: Session, lead: Lead) -> list[int]:
    """Who escalations reach: the owner's team supervisors, else the branch's."""
    q = select(Staff.id).where(Staff.role == "supervisor", Staff.active)  # type: ignore[arg-type]
    team = session.scalar(select(Staff.team_id).where(Staff.id == lead.owner_id)) \
        if lead.owner_id else None
    if team is not None:
        found = list(session.scalars(q.where(Staff.team_id == team)))
        if found:
            return found
    if lead.branch_id is None:
        return []
    return list(session.scalars(q.where(Staff.branch_id == lead.branch_id)))


def run_due(crm: Crm, now: datetime) -> dict[str, int]:
    actor = system_actor("jobs")
    breached = escalated = 0
    while True:
        with crm.db.write() as session:
            rows = session.scalars(
                select(Lead).where(Lead.first_contact_at.is_(None),  # type: ignore[union-attr]
                                   Lead.breached_at.is_(None),  # type: ignore[union-attr]
                                   Lead.status.in_(("new", "assigned")),  # type: ignore[attr-defined]
                                   Lead.first_contact_due <= now)
                .order_by(Lead.id).limit(BATCH).with_for_update()).all()
            for lead in rows:
                lead.breached_at = now
                session.add(lead)
                audit.record(crm.db, session, actor, "lead.breach", "lead", lead.id, None,
                             {"first_contact_due": lead.first_contact_due, "owner_id": lead.owner_id})
                for sup in supervisors_for(session, lead):
                    escalated += notify(session, sup, "lead_breach", "sales.notify.lead_breach",
                                        {"id": lead.id, "name": lead.name}, entity="lead",
                                        entity_id=lead.id, dedupe_key=f"lead-breach:{lead.id}:{sup}")
                if lead.owner_id is not None:
                    notify(session, lead.owner_id, "lead_breach", "sales.notify.lead_breach_owner",
                           {"id": lead.id, "name": lead.name}, entity="lead", entity_id=lead.id,
                           dedupe_key=f"lead-breach-owner:{lead.id}")
        breached += len(rows)
        if len(rows) < BATCH:
            return {"leads_breached": breached, "lead_escalations": escalated}

"""Service-efficiency KPIs (docs/METRICS.md, "Service efficiency"), over tickets of the
customers in scope: first response, resolution, SLA attainment, volume by type, CSAT and
first-contact resolution."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlmodel import Session

from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.reporting.base import (
    TICKET,
    Scope,
    avg,
    customers_where,
    has_table,
    minutes_between,
    rate,
)
from crm_tui.store.models import Customer

EMPTY = {"first_response_minutes_avg": None, "resolution_hours_avg": None, "sla_attainment": None,
         "volume_by_type": {}, "csat_avg": None, "fcr_rate": None}


def service_panel(session: Session, actor: Actor, scope: Scope) -> dict[str, Any]:
    if not has_table(session, "ticket"):
        return dict(EMPTY)
    p, tk = scope.filters.period, TICKET
    in_scope = customers_where(actor, scope)
    created = (tk.c.created_at >= p.start) & (tk.c.created_at < p.end)
    resolved = (tk.c.resolved_at >= p.start) & (tk.c.resolved_at < p.end)
    first = session.scalar(select(func.avg(minutes_between(session, tk.c.first_response_at,
                                                           tk.c.created_at)))
                           .join(Customer, Customer.id == tk.c.customer_id)
                           .where(created, tk.c.first_response_at.is_not(None), in_scope))
    on_time = (tk.c.resolved_at <= tk.c.resolution_due) & (
        tk.c.first_response_at.is_not(None)) & (tk.c.first_response_at <= tk.c.first_response_due)
    row = session.execute(
        select(func.avg(minutes_between(session, tk.c.resolved_at, tk.c.created_at) / 60.0),
               func.count(), func.sum(case((on_time, 1), else_=0)), func.avg(tk.c.csat),
               func.sum(case((tk.c.first_contact_resolution.is_(True), 1), else_=0)),
               func.count(tk.c.first_contact_resolution))
        .join(Customer, Customer.id == tk.c.customer_id).where(resolved, in_scope)).one()
    hours, n_resolved, n_on_time, csat, fcr_yes, fcr_known = row
    volume = {kind: n for kind, n in session.execute(
        select(tk.c.type, func.count()).join(Customer, Customer.id == tk.c.customer_id)
        .where(created, in_scope).group_by(tk.c.type).order_by(func.count().desc(), tk.c.type))}
    return {
        "first_response_minutes_avg": avg(first),
        "resolution_hours_avg": avg(hours),
        "sla_attainment": rate(n_on_time, n_resolved),
        "volume_by_type": volume,
        "csat_avg": avg(csat, 2),
        "fcr_rate": rate(fcr_yes, fcr_known),
    }

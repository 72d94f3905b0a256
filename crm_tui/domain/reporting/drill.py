"""Drill-down: the records behind a figure, in the same scope and filters, keyset-paged, so
a figure on the KPI screen opens into the customers, opportunities or tickets it counts (and
the profile opens from there). Nothing outside the actor's scope is ever listed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, ValidationFailed
from crm_tui.domain.reporting.base import (
    OPPORTUNITY,
    STAGE_EVENT,
    TICKET,
    KpiFilter,
    customers_where,
    money,
    resolve,
)
from crm_tui.domain.reporting.sales_kpis import active_customers
from crm_tui.domain.reporting.value_kpis import holders, tier_of
from crm_tui.store.models import Customer

PAGE = 100
FIGURES = ("aum_per_customer", "aum_pyramid", "churn_rate", "cross_sell_rate", "funnel",
           "volume_by_type", "sla_attainment")


@dataclass(frozen=True)
class DrillRow:
    kind: str  # customer | opportunity | ticket
    id: int
    customer_id: int
    customer: str
    detail: str


def drill(crm: Crm, actor: Actor, f: KpiFilter, figure: str, arg: str | None = None, *,
          after_id: int = 0, limit: int = PAGE) -> list[DrillRow]:
    """One page of the records behind `figure` (a tier, a stage or a ticket type in `arg`)."""
    if figure not in FIGURES:
        raise ValidationFailed([FieldError("figure", "validation.choice", {"value": figure})])
    scope = resolve(crm, actor, f)
    p = f.period
    with crm.db.read() as session:
        if figure in ("aum_per_customer", "aum_pyramid", "churn_rate", "cross_sell_rate"):
            q = select(Customer.id, Customer.name, Customer.aum_fen).where(Customer.id > after_id)
            if figure == "churn_rate":
                q = q.where(customers_where(actor, scope), Customer.churned_at >= p.start,  # type: ignore[operator]
                            Customer.churned_at < p.end)  # type: ignore[operator]
            elif figure == "cross_sell_rate":
                q = q.where(Customer.id.in_(holders(actor, scope, 2)))  # type: ignore[union-attr]
            else:
                q = q.where(active_customers(actor, scope), Customer.churned_at.is_(None))  # type: ignore[union-attr]
                if figure == "aum_pyramid" and arg:
                    q = q.where(tier_of(crm.policy().reporting) == arg)
            rows = session.execute(q.order_by(Customer.id).limit(limit)).all()
            return [DrillRow("customer", cid, cid, name, money(aum)) for cid, name, aum in rows]
        if figure == "funnel":
            e, o = STAGE_EVENT, OPPORTUNITY
            q = (select(o.c.id, o.c.customer_id, Customer.name, o.c.stage)
                 .join(e, e.c.opportunity_id == o.c.id).join(Customer, Customer.id == o.c.customer_id)
                 .where(e.c.at >= p.start, e.c.at < p.end, customers_where(actor, scope),
                        o.c.id > after_id)
                 .distinct().order_by(o.c.id).limit(limit))
            if arg:
                q = q.where(e.c.to_stage == arg)
            return [DrillRow("opportunity", oid, cid, name, stage)
                    for oid, cid, name, stage in session.execute(q)]
        tk = TICKET
        q = (select(tk.c.id, tk.c.customer_id, Customer.name, tk.c.type, tk.c.state)
             .join(Customer, Customer.id == tk.c.customer_id)
             .where(customers_where(actor, scope), tk.c.id > after_id)
             .order_by(tk.c.id).limit(limit))
        if figure == "volume_by_type":
            q = q.where(tk.c.created_at >= p.start, tk.c.created_at < p.end)
            if arg:
                q = q.where(tk.c.type == arg)
        else:
            q = q.where(tk.c.resolved_at >= p.start, tk.c.resolved_at < p.end)
        return [DrillRow("ticket", tid, cid, name, f"{kind} · {state}")
                for tid, cid, name, kind, state in session.execute(q)]

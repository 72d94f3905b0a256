"""Customer-value KPIs (docs/METRICS.md, "Customer value"): the AUM pyramid, lifetime value,
churn rate and reasons, activity per customer, cross-sell rate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import case, distinct, func, literal, select
from sqlmodel import Session

from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.policy.reporting_policy import ReportingPolicy
from crm_tui.domain.reporting.base import Scope, customers_where, money, rate
from crm_tui.domain.reporting.sales_kpis import active_customers
from crm_tui.store.models import Customer, Holding, Interaction, Product, Trade


def tier_of(policy: ReportingPolicy) -> Any:
    """The pyramid tier of a customer, as a SQL CASE over her AUM (fen)."""
    whens = [(Customer.aum_fen >= int(t.min_aum * 100), literal(t.name))
             for t in policy.tiers[:-1]]
    return case(*whens, else_=literal(policy.tiers[-1].name))


def aum_pyramid(session: Session, actor: Actor, scope: Scope,
                policy: ReportingPolicy) -> list[dict[str, Any]]:
    tier = tier_of(policy).label("tier")
    q = (select(tier, func.count(), func.sum(Customer.aum_fen))
         .where(active_customers(actor, scope), Customer.churned_at.is_(None))  # type: ignore[union-attr]
         .group_by(tier))
    found = {name: (n, aum) for name, n, aum in session.execute(q)}
    return [{"tier": t.name, "customers": found.get(t.name, (0, 0))[0],
             "aum": money(found.get(t.name, (0, 0))[1])} for t in policy.tiers]


def ltv_avg(session: Session, actor: Actor, scope: Scope, policy: ReportingPolicy) -> str | None:
    """Average over open relationships of (AUM × margin + fees of the last 12 months) ×
    expected years: the value model is the policy's, so it is visible and adjustable."""
    end = scope.filters.period.end
    n, aum = session.execute(select(func.count(), func.coalesce(func.sum(Customer.aum_fen), 0))
                             .where(active_customers(actor, scope),
                                    Customer.churned_at.is_(None))).one()  # type: ignore[union-attr]
    if not n:
        return None
    fees = session.scalar(
        select(func.coalesce(func.sum(Trade.amount_fen * Product.fee_rate_bp), 0))
        .join(Product, Product.id == Trade.product_id)
        .join(Customer, Customer.id == Trade.customer_id)
        .where(Trade.kind == "subscription", Trade.status == "executed",
               Trade.occurred_at >= end - timedelta(days=365), Trade.occurred_at < end,  # type: ignore[operator]
               active_customers(actor, scope))) or 0
    # integers throughout (fen × basis points), so no float rounding reaches the figure
    yearly_fen_e4 = int(aum) * policy.aum_margin_bp + int(fees)
    return money(yearly_fen_e4 * policy.relationship_years // (10_000 * n))


def churn(session: Session, actor: Actor, scope: Scope) -> tuple[float | None, dict[str, int]]:
    """Relationships that ended in the period over those open at its start; and why."""
    p = scope.filters.period
    base = customers_where(actor, scope)
    at_start = session.scalar(select(func.count()).where(
        base, Customer.created_at < p.start,  # type: ignore[operator]
        Customer.churned_at.is_(None) | (Customer.churned_at >= p.start)))  # type: ignore[union-attr,operator]
    rows = session.execute(select(Customer.churn_reason, func.count()).where(
        base, Customer.churned_at >= p.start, Customer.churned_at < p.end)  # type: ignore[operator]
        .group_by(Customer.churn_reason)).all()
    reasons = {str(reason or "other"): n for reason, n in rows}
    churned_from_start = session.scalar(select(func.count()).where(
        base, Customer.created_at < p.start, Customer.churned_at >= p.start,  # type: ignore[operator]
        Customer.churned_at < p.end))  # type: ignore[operator]
    return rate(churned_from_start, at_start), dict(sorted(reasons.items(), key=lambda kv: -kv[1]))


def activity(session: Session, actor: Actor, scope: Scope) -> tuple[float | None, float | None]:
    """Interactions and executed trades in the period, per customer open during it."""
    p = scope.filters.period
    n = session.scalar(select(func.count()).where(active_customers(actor, scope))) or 0
    if not n:
        return None, None
    inter = session.scalar(select(func.count()).select_from(Interaction)
                           .join(Customer, Customer.id == Interaction.customer_id)
                           .where(Interaction.occurred_at >= p.start,  # type: ignore[operator]
                                  Interaction.occurred_at < p.end,  # type: ignore[operator]
                                  active_customers(actor, scope))) or 0
    trades = session.scalar(select(func.count()).select_from(Trade)
                            .join(Customer, Customer.id == Trade.customer_id)
                            .where(Trade.status == "executed", Trade.occurred_at >= p.start,  # type: ignore[operator]
                                   Trade.occurred_at < p.end,  # type: ignore[operator]
                                   active_customers(actor, scope))) or 0
    return round(inter / n, 2), round(trades / n, 2)


def holders(actor: Actor, scope: Scope, min_categories: int, max_categories: int | None = None) -> Any:
    """Customers in scope holding between `min` and `max` product categories (a subquery)."""
    q = (select(Holding.customer_id)
         .join(Product, Product.id == Holding.product_id)
         .join(Customer, Customer.id == Holding.customer_id)
         .where(Holding.amount_fen > 0, customers_where(actor, scope),
                Customer.churned_at.is_(None))  # type: ignore[union-attr]
         .group_by(Holding.customer_id)
         .having(func.count(distinct(Product.category)) >= min_categories))
    if max_categories is not None:
        q = q.having(func.count(distinct(Product.category)) <= max_categories)
    return q


def cross_sell_rate(session: Session, actor: Actor, scope: Scope) -> float | None:
    holding_any = session.scalar(select(func.count()).select_from(holders(actor, scope, 1).subquery()))
    holding_two = session.scalar(select(func.count()).select_from(holders(actor, scope, 2).subquery()))
    return rate(holding_two, holding_any)


def value_panel(session: Session, actor: Actor, scope: Scope, policy: ReportingPolicy) -> dict[str, Any]:
    churn_rate, reasons = churn(session, actor, scope)
    per_interactions, per_trades = activity(session, actor, scope)
    return {
        "aum_pyramid": aum_pyramid(session, actor, scope, policy),
        "ltv_avg": ltv_avg(session, actor, scope, policy),
        "churn_rate": churn_rate,
        "churn_reasons": reasons,
        "interactions_per_customer": per_interactions,
        "trades_per_customer": per_trades,
        "cross_sell_rate": cross_sell_rate(session, actor, scope),
    }

"""Sales KPIs (docs/METRICS.md, "Sales"): funnel conversion per stage, average close cycle,
AUM per customer, product ranking, target attainment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, distinct, exists, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.reporting.base import (
    OPPORTUNITY,
    STAGE_EVENT,
    STAGES,
    Scope,
    avg,
    customers_where,
    has_table,
    minutes_between,
    money,
    rate,
)
from crm_tui.store.models import Customer, Product, Staff, Team, Trade
from crm_tui.store.models_reporting import SalesTarget


def funnel(session: Session, actor: Actor, scope: Scope) -> list[dict[str, Any]]:
    """Per stage: opportunities that entered it in the period, how many of those reached the
    next stage by the period's end, and the ratio."""
    p = scope.filters.period
    if not has_table(session, "opportunity_stage_event"):
        return [{"stage": s, "entered": 0, "advanced": 0, "conversion": None} for s in STAGES[:-1]]
    e, nxt = STAGE_EVENT.alias("e"), STAGE_EVENT.alias("nxt")
    o = OPPORTUNITY.alias("o")
    following = case(*((e.c.to_stage == s, STAGES[i + 1]) for i, s in enumerate(STAGES[:-1])))
    advanced = exists().where(nxt.c.opportunity_id == e.c.opportunity_id,
                              nxt.c.to_stage == following, nxt.c.at >= e.c.at, nxt.c.at < p.end)
    q = (select(e.c.to_stage, func.count(distinct(e.c.opportunity_id)),
                func.count(distinct(case((advanced, e.c.opportunity_id)))))
         .join(o, o.c.id == e.c.opportunity_id)
         .join(Customer, Customer.id == o.c.customer_id)
         .where(e.c.at >= p.start, e.c.at < p.end, e.c.to_stage.in_(STAGES[:-1]),
                customers_where(actor, scope), _category(o.c.product_id, scope))
         .group_by(e.c.to_stage))
    found = {stage: (n, a) for stage, n, a in session.execute(q)}
    return [{"stage": s, "entered": found.get(s, (0, 0))[0], "advanced": found.get(s, (0, 0))[1],
             "conversion": rate(found.get(s, (0, 0))[1], found.get(s, (0, 0))[0])}
            for s in STAGES[:-1]]


def _category(product_id: Any, scope: Scope) -> Any:
    if scope.filters.category is None:
        return True
    return product_id.in_(select(Product.id).where(Product.category == scope.filters.category))


def close_cycle_days(session: Session, actor: Actor, scope: Scope) -> float | None:
    """Average days from creation to won, over opportunities won in the period."""
    if not has_table(session, "opportunity"):
        return None
    p, o = scope.filters.period, OPPORTUNITY
    q = (select(func.avg(minutes_between(session, o.c.closed_at, o.c.created_at) / 1440.0))
         .join(Customer, Customer.id == o.c.customer_id)
         .where(o.c.stage == "won", o.c.closed_at >= p.start, o.c.closed_at < p.end,
                customers_where(actor, scope), _category(o.c.product_id, scope)))
    return avg(session.scalar(q))


def active_customers(actor: Actor, scope: Scope) -> Any:
    """Customers in scope whose relationship was open at some time in the period."""
    p = scope.filters.period
    return and_(customers_where(actor, scope), Customer.created_at < p.end,  # type: ignore[operator]
                (Customer.churned_at.is_(None)) | (Customer.churned_at >= p.start))  # type: ignore[union-attr,operator]


def aum_per_customer(session: Session, actor: Actor, scope: Scope) -> str | None:
    total, n = session.execute(select(func.sum(Customer.aum_fen), func.count())
                               .where(active_customers(actor, scope),
                                      Customer.churned_at.is_(None))).one()  # type: ignore[union-attr]
    return money(total // n) if n else None


def _subscriptions(scope: Scope) -> list[Any]:
    p = scope.filters.period
    conds = [Trade.kind == "subscription", Trade.status == "executed",
             Trade.occurred_at >= p.start, Trade.occurred_at < p.end]  # type: ignore[operator]
    if scope.filters.category is not None:
        conds.append(Product.category == scope.filters.category)
    return conds


def product_ranking(session: Session, actor: Actor, scope: Scope, top: int = 10) -> list[dict[str, Any]]:
    """Subscriptions executed in the period per product, largest amount first."""
    amount = func.sum(Trade.amount_fen)
    q = (select(Product.code, Product.name, amount, func.count())
         .join(Product, Product.id == Trade.product_id)
         .join(Customer, Customer.id == Trade.customer_id)
         .where(*_subscriptions(scope), customers_where(actor, scope))
         .group_by(Product.code, Product.name).order_by(amount.desc(), Product.code).limit(top))
    return [{"product": f"{code} {name}", "amount": money(a), "count": n}
            for code, name, a, n in session.execute(q)]


def target_attainment(session: Session, actor: Actor, scope: Scope) -> list[dict[str, Any]]:
    """Each RM's or team's target for the period against the subscriptions their customers
    made; an RM sees her own, a supervisor her team and its RMs, a branch head the branch.
    The actuals are two GROUP BYs (per RM, per team), whatever the number of targets."""
    p = scope.filters.period
    rm = aliased(Staff)
    q = (select(SalesTarget, rm.username, rm.team_id, rm.branch_id, Team.name, Team.branch_id)
         .outerjoin(rm, rm.id == SalesTarget.staff_id)
         .outerjoin(Team, Team.id == SalesTarget.team_id)
         .where(SalesTarget.period == p.label).order_by(SalesTarget.id))
    shown = [(target, username or team_name) for target, username, rm_team, rm_branch, team_name,
             team_branch in session.execute(q)
             if _may_see_target(actor, target, rm_team, rm_branch, team_branch)
             and (scope.rm_id is None or target.staff_id == scope.rm_id)]
    rm_ids = {t.staff_id for t, _ in shown if t.staff_id is not None}
    team_ids = {t.team_id for t, _ in shown if t.team_id is not None}
    amount = func.coalesce(func.sum(Trade.amount_fen), 0)

    def bought(key: Any, keys: set[int]) -> dict[int, int]:
        if not keys:
            return {}
        q = (select(key, amount).select_from(Trade).join(Customer, Customer.id == Trade.customer_id)
             .outerjoin(Product, Product.id == Trade.product_id)
             .where(*_subscriptions(scope), key.in_(keys)).group_by(key))
        if key is Staff.team_id:
            q = q.join(Staff, Staff.id == Customer.rm_id)
        return {k: int(v) for k, v in session.execute(q)}

    by_rm, by_team = bought(Customer.rm_id, rm_ids), bought(Staff.team_id, team_ids)
    out = []
    for target, who in shown:
        actual = (by_rm.get(target.staff_id, 0) if target.staff_id is not None
                  else by_team.get(target.team_id or 0, 0))
        out.append({"who": who, "target": money(target.amount_fen), "actual": money(actual),
                    "ratio": rate(actual, target.amount_fen)})
    return out


def _may_see_target(actor: Actor, target: SalesTarget, rm_team: int | None,
                    rm_branch: int | None, team_branch: int | None) -> bool:
    if actor.role in ("compliance", "risk"):
        return True
    if actor.role == "branch_head":
        return actor.branch_id in (rm_branch, team_branch)
    if actor.role == "supervisor":
        return actor.team_id is not None and actor.team_id in (rm_team, target.team_id)
    return target.staff_id == actor.id


def sales_panel(session: Session, actor: Actor, scope: Scope) -> dict[str, Any]:
    return {
        "funnel": funnel(session, actor, scope),
        "close_cycle_days_avg": close_cycle_days(session, actor, scope),
        "aum_per_customer": aum_per_customer(session, actor, scope),
        "product_ranking": product_ranking(session, actor, scope),
        "target_attainment": target_attainment(session, actor, scope),
    }

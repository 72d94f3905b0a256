"""The revenue forecast: open opportunities × the historical chance that an opportunity in
their stage is won, with the assumptions shown (per stage: how many were seen, how many won,
the chance, the open pipeline and its expected value)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import distinct, exists, func, select

from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.reporting.base import (
    OPPORTUNITY,
    STAGE_EVENT,
    STAGES,
    KpiFilter,
    customers_where,
    has_table,
    money,
    rate,
    resolve,
)
from crm_tui.store.models import Customer


@dataclass(frozen=True)
class StageAssumption:
    stage: str
    seen: int
    """Opportunities that ever entered the stage before the forecast's start."""
    won: int
    chance: float | None
    open_count: int
    open_amount: str
    expected: str


@dataclass(frozen=True)
class Forecast:
    period: str
    expected: str
    stages: tuple[StageAssumption, ...]


def forecast(crm: Crm, actor: Actor, f: KpiFilter) -> Forecast:
    """Expected subscriptions in `f.period` (normally the next quarter) from today's pipeline."""
    scope = resolve(crm, actor, f)
    start = f.period.start
    stages = []
    total = 0
    with crm.db.read() as session:
        if not has_table(session, "opportunity"):
            return Forecast(f.period.label, money(0), ())
        e, w, o = STAGE_EVENT.alias("e"), STAGE_EVENT.alias("w"), OPPORTUNITY
        won_later = exists().where(w.c.opportunity_id == e.c.opportunity_id, w.c.to_stage == "won",
                                   w.c.at < start)
        history = {stage: (seen, won) for stage, seen, won in session.execute(
            select(e.c.to_stage, func.count(distinct(e.c.opportunity_id)),
                   func.count(distinct(e.c.opportunity_id)).filter(won_later))
            .join(o, o.c.id == e.c.opportunity_id).join(Customer, Customer.id == o.c.customer_id)
            .where(e.c.at < start, customers_where(actor, scope)).group_by(e.c.to_stage))}
        pipeline = {stage: (n, amount) for stage, n, amount in session.execute(
            select(o.c.stage, func.count(), func.coalesce(func.sum(o.c.amount_fen), 0))
            .join(Customer, Customer.id == o.c.customer_id)
            .where(o.c.stage.in_(STAGES[:-1]), customers_where(actor, scope))
            .group_by(o.c.stage))}
    for stage in STAGES[:-1]:
        seen, won = history.get(stage, (0, 0))
        chance = rate(won, seen)
        n, amount = pipeline.get(stage, (0, 0))
        expected = int(int(amount) * (chance or 0))
        total += expected
        stages.append(StageAssumption(stage, seen, won, chance, n, money(amount), money(expected)))
    return Forecast(f.period.label, money(total), tuple(stages))

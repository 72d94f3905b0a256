"""Early warning: customers at risk of churn, with a transparent score.

Four factors, each either firing or not, each worth the points the policy gives it
(`reporting.churn_risk`): money leaving (net redemptions in the recent window against the
AUM at its start), falling activity (interactions and trades in the recent window against
the window before), open complaints, and a long time without contact. The score is the sum
of the fired factors' weights; a customer enters the list at `min_score`. Everything is one
SQL statement per page (the measured values come back beside the score, so the screen and
the CLI show why), keyset-paged on (score ↓, AUM ↓, id ↑). Definitions: docs/METRICS.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select, union_all
from sqlmodel import Session

from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.policy.reporting_policy import ChurnRisk
from crm_tui.domain.reporting.base import TICKET, KpiFilter, Scope, customers_where, has_table, money
from crm_tui.domain.reporting.period import current_quarter
from crm_tui.store.models import Customer, Interaction, Staff, Trade

PAGE = 100
FACTORS = ("aum_decline", "activity_drop", "open_complaints", "no_contact")
OPEN_TICKET_STATES = ("new", "assigned", "in_progress", "waiting_customer")

Cursor = tuple[int, int, int]
"""(score, AUM in fen, customer id) of the last row of a page."""


@dataclass(frozen=True)
class Factor:
    key: str
    weight: int
    hit: bool
    params: dict[str, Any]
    """The measured value(s), for `reporting.warning.factor.<key>` (and --json)."""


@dataclass(frozen=True)
class ChurnRiskRow:
    customer_id: int
    customer: str
    rm: str | None
    rm_id: int | None
    aum: str
    aum_fen: int
    score: int
    factors: tuple[Factor, ...]

    def cursor(self) -> Cursor:
        return (self.score, self.aum_fen, self.customer_id)


def default_filter(crm: Crm) -> KpiFilter:
    """Warnings look at today, not a period: the filter bar's branch/team/RM still narrows."""
    return KpiFilter(current_quarter(crm.tz))


def as_of_utc(as_of: datetime | None) -> datetime:
    return (as_of or datetime.now(UTC)).astimezone(UTC)


def end_of_day(crm: Crm, day: date | None) -> datetime | None:
    """The screen's moment: the end of the app's (pinned) day, or None for now."""
    if day is None:
        return None
    after = day + timedelta(days=1)
    return datetime(after.year, after.month, after.day, tzinfo=crm.tz).astimezone(UTC)


def parse_as_of(crm: Crm, text: str) -> datetime:
    """`--as-of 2026-10-01`: the start of that day in the display zone (a field error else)."""
    from crm_tui.domain.kernel.errors import FieldError, ValidationFailed
    from crm_tui.domain.kernel.validation import BadValue, parse_date

    try:
        day = parse_date(text, required=True)
    except BadValue as exc:
        raise ValidationFailed([FieldError("as_of", exc.key, exc.params)]) from None
    assert day is not None
    return datetime(day.year, day.month, day.day, tzinfo=crm.tz).astimezone(UTC)


def open_customers(actor: Actor, scope: Scope, as_of: datetime) -> Any:
    """The population: in scope (restricted records never are), relationship open."""
    return and_(customers_where(actor, scope), Customer.churned_at.is_(None),  # type: ignore[union-attr]
                Customer.created_at < as_of)  # type: ignore[operator]


def _scored(session: Session, actor: Actor, scope: Scope, rules: ChurnRisk, as_of: datetime) -> Any:
    """Every open customer in scope with the four measured values and the score."""
    base = open_customers(actor, scope, as_of)
    in_scope = select(Customer.id).where(base)
    t1 = as_of - timedelta(days=rules.window_days)
    t0 = t1 - timedelta(days=rules.window_days)
    quiet_since = as_of - timedelta(days=rules.no_contact_days)
    executed = and_(Trade.status == "executed", Trade.customer_id.in_(in_scope))  # type: ignore[attr-defined]
    flows = (select(Trade.customer_id.label("cid"),
                    func.sum(case((Trade.kind == "redemption", Trade.amount_fen), else_=0)
                             - case((Trade.kind == "subscription", Trade.amount_fen), else_=0))
                    .label("outflow"))
             .where(executed, Trade.occurred_at >= t1, Trade.occurred_at < as_of)  # type: ignore[operator]
             .group_by(Trade.customer_id).subquery("flows"))
    events = union_all(
        select(Interaction.customer_id.label("cid"), Interaction.occurred_at.label("at"))
        .where(Interaction.customer_id.in_(in_scope),  # type: ignore[attr-defined]
               Interaction.occurred_at >= t0, Interaction.occurred_at < as_of),  # type: ignore[operator]
        select(Trade.customer_id, Trade.occurred_at)
        .where(executed, Trade.occurred_at >= t0, Trade.occurred_at < as_of),  # type: ignore[operator]
    ).subquery("events")
    activity = (select(events.c.cid,
                       func.sum(case((events.c.at >= t1, 1), else_=0)).label("recent"),
                       func.sum(case((events.c.at < t1, 1), else_=0)).label("before"))
                .group_by(events.c.cid).subquery("activity"))
    contact = (select(Interaction.customer_id.label("cid"),
                      func.max(Interaction.occurred_at).label("last"))
               .where(Interaction.customer_id.in_(in_scope),  # type: ignore[attr-defined]
                      Interaction.occurred_at < as_of)  # type: ignore[operator]
               .group_by(Interaction.customer_id).subquery("contact"))
    outflow = func.coalesce(flows.c.outflow, 0)
    recent, before = func.coalesce(activity.c.recent, 0), func.coalesce(activity.c.before, 0)
    last = func.coalesce(contact.c.last, Customer.created_at)
    w = rules.weights
    hits = {
        "aum_decline": and_(outflow > 0,
                            outflow * 100 >= (Customer.aum_fen + outflow) * rules.aum_decline_pct),
        "activity_drop": and_(before > 0, recent * 100 <= before * (100 - rules.activity_drop_pct)),
        "no_contact": last < quiet_since,
    }
    q = (select(Customer.id.label("id"), Customer.name.label("name"),  # type: ignore[union-attr]
                Customer.rm_id.label("rm_id"), Customer.aum_fen.label("aum_fen"),
                outflow.label("outflow"), recent.label("recent"), before.label("before"),
                last.label("last_contact"))
         .outerjoin(flows, flows.c.cid == Customer.id)
         .outerjoin(activity, activity.c.cid == Customer.id)
         .outerjoin(contact, contact.c.cid == Customer.id))
    complaints: Any = literal(0)
    if has_table(session, "ticket"):
        tk = TICKET
        open_complaints = (select(tk.c.customer_id.label("cid"), func.count().label("n"))
                           .where(tk.c.type == "complaint", tk.c.state.in_(OPEN_TICKET_STATES),
                                  tk.c.customer_id.in_(in_scope))
                           .group_by(tk.c.customer_id).subquery("complaints"))
        q = q.outerjoin(open_complaints, open_complaints.c.cid == Customer.id)
        complaints = func.coalesce(open_complaints.c.n, 0)
    hits["open_complaints"] = complaints > 0
    score = sum((case((hits[k], getattr(w, k)), else_=0) for k in FACTORS), start=literal(0))
    return (q.add_columns(complaints.label("complaints"), score.label("score"))
            .where(base).subquery("scored"))


def _row(r: Any, rm: str | None, rules: ChurnRisk, as_of: datetime) -> ChurnRiskRow:
    w = rules.weights
    outflow, aum = int(r.outflow or 0), int(r.aum_fen or 0)
    start = aum + outflow
    decline_pct = round(outflow * 100 / start) if outflow > 0 and start > 0 else 0
    recent, before, complaints = int(r.recent or 0), int(r.before or 0), int(r.complaints or 0)
    quiet_days = max(0, (as_of - r.last_contact).days) if r.last_contact else None
    factors = (
        Factor("aum_decline", w.aum_decline,
               outflow > 0 and outflow * 100 >= start * rules.aum_decline_pct,
               {"pct": decline_pct, "outflow": money(max(outflow, 0))}),
        Factor("activity_drop", w.activity_drop,
               before > 0 and recent * 100 <= before * (100 - rules.activity_drop_pct),
               {"recent": recent, "before": before}),
        Factor("open_complaints", w.open_complaints, complaints > 0, {"n": complaints}),
        Factor("no_contact", w.no_contact,
               r.last_contact is not None
               and r.last_contact < as_of - timedelta(days=rules.no_contact_days),
               {"days": quiet_days}),
    )
    return ChurnRiskRow(int(r.id), r.name, rm, r.rm_id, money(aum), aum, int(r.score), factors)


def churn_risks(crm: Crm, actor: Actor, f: KpiFilter | None = None, *,
                as_of: datetime | None = None, after: Cursor | None = None,
                limit: int = PAGE) -> list[ChurnRiskRow]:
    """One page of the customers at risk, highest score first (larger books first within a
    score); pass the last row's `cursor()` as `after` for the next page."""
    from crm_tui.domain.reporting.base import resolve

    scope = resolve(crm, actor, f or default_filter(crm))
    rules = crm.policy().reporting.churn_risk
    at = as_of_utc(as_of)
    with crm.db.read() as session:
        s = _scored(session, actor, scope, rules, at)
        q = (select(s, Staff.username).outerjoin(Staff, Staff.id == s.c.rm_id)
             .where(s.c.score >= rules.min_score))
        if after is not None:
            score, aum, cid = after
            q = q.where(or_(s.c.score < score,
                            and_(s.c.score == score,
                                 or_(s.c.aum_fen < aum, and_(s.c.aum_fen == aum, s.c.id > cid)))))
        q = q.order_by(s.c.score.desc(), s.c.aum_fen.desc(), s.c.id).limit(limit)
        return [_row(r, r.username, rules, at) for r in session.execute(q)]

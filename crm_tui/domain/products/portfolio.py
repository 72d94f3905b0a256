"""What the profile's allocation panel and the RM act on: a customer's allocation against
the model portfolio, and ranked rebalancing moves that bring the mix back inside the band —
redemptions from over-weight classes (only what can be redeemed now) and subscriptions into
under-weight classes, only of products the suitability rule allows outright
(`compliance.suitability.check_suitability`) and only in amounts that respect the product's
minimum and step. A move is a suggestion: the RM turns it into a sale or a proposal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session

from crm_tui.domain.compliance.suitability import check_suitability
from crm_tui.domain.customers.kyc import checklist_for
from crm_tui.domain.customers.scope import load_in_scope
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.messages import Msg
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.validation import from_fen, to_fen
from crm_tui.domain.policy.document import Policy
from crm_tui.domain.products.allocation import Allocation, allocation_for
from crm_tui.domain.products.valuation import HOLDING
from crm_tui.store.models import Customer, Product, RiskAssessment
from crm_tui.store.models_products import join_valuation, valuation_columns


@dataclass(frozen=True)
class ModelView:
    level: str
    band: Decimal
    targets: tuple[tuple[str, Decimal], ...]


@dataclass(frozen=True)
class Move:
    rank: int
    action: str  # sell | buy
    asset_class: str
    product_code: str
    product_name: str
    amount: Decimal  # in the product's currency (CNY for buys)
    currency: str
    drift: Decimal  # the class's drift this move works on (percentage points)
    reason_key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rebalancing:
    allocation: Allocation
    moves: tuple[Move, ...]
    blocked_key: str | None = None  # why no purchase can be suggested (KYC, assessment)
    blocked_params: dict[str, Any] = field(default_factory=dict)


def model_view(policy: Policy, level: str | None) -> ModelView | None:
    model = policy.portfolios.model_for(level)
    if model is None or level is None:
        return None
    return ModelView(level, model.band, tuple((k, v) for k, v in model.targets.items() if v))


def customer_allocation(crm: Crm, actor: Actor, customer_id: int, *, today: date | None = None
                        ) -> tuple[Allocation, ModelView | None]:
    """The allocation panel's data, in the actor's scope."""
    require(actor, Perm.CUSTOMER_VIEW)
    today = today or datetime.now(crm.tz).date()
    policy = crm.policy()
    with crm.db.read() as session:
        c = load_in_scope(session, actor, customer_id)
        return allocation_for(session, policy, c, today), model_view(policy, c.risk_level)


def _fit(amount_fen: int, min_fen: int, step_fen: int) -> int:
    """The largest amount ≤ `amount_fen` the product accepts (minimum, then steps), or 0."""
    if amount_fen < max(min_fen, 1):
        return 0
    if step_fen <= 0:
        return amount_fen
    return min_fen + (amount_fen - min_fen) // step_fen * step_fen


def suitability_inputs(session: Session, policy: Policy, c: Customer, today: date
                       ) -> tuple[Any, date | None]:
    """The KYC checklist and the assessment's validity, as `suitability.assess` reads them,
    loaded once for many products."""
    kyc = checklist_for(session, policy, c.id or 0, c.kind, today)
    latest = session.scalars(
        select(RiskAssessment).where(RiskAssessment.customer_id == c.id)
        .order_by(RiskAssessment.assessed_at.desc(), RiskAssessment.id.desc()).limit(1)  # type: ignore[attr-defined]
    ).first()
    return kyc, (latest.valid_until if latest else c.risk_valid_until)


def _sells(session: Session, c: Customer, alloc: Allocation, today: date) -> list[tuple[Decimal, Move]]:
    """Redeem from over-weight classes, largest holding first, only what can go now."""
    total = to_fen(alloc.total)
    over = {s.asset_class: s for s in alloc.slices if s.outside and s.drift > 0}
    if not over:
        return []
    lp, lr, value, value_cny = valuation_columns(HOLDING, today)
    q = join_valuation(
        select(Product.asset_class, Product.code, Product.name, HOLDING.c.currency, value,
               value_cny)
        .select_from(HOLDING).join(Product, Product.id == HOLDING.c.product_id), HOLDING, lp, lr)
    rows = session.execute(
        q.where(HOLDING.c.customer_id == c.id, HOLDING.c.units_e4 > 0,
                Product.asset_class.in_(list(over)),  # type: ignore[attr-defined]
                or_(Product.early_redeemable, Product.maturity_date.is_(None),  # type: ignore[arg-type, union-attr]
                    Product.maturity_date <= today))  # type: ignore[operator]
        .order_by(value_cny.desc())).all()
    out = []
    need = {ac: int(s.drift * total / 100) for ac, s in over.items()}  # back to target
    for ac, code, name, cur, v, v_cny in rows:
        if v_cny is None or need[ac] <= 0:
            continue
        cny = min(int(v_cny), need[ac])
        need[ac] -= cny
        own = int(v) * cny // int(v_cny) if v_cny else 0
        out.append((over[ac].drift, Move(0, "sell", ac, code, name, from_fen(own), cur,
                                         over[ac].drift, "products.move.sell",
                                         {"class": Msg(f"products.asset_class.{ac}")})))
    return out


def _buys(session: Session, crm: Crm, policy: Policy, c: Customer, alloc: Allocation,
          today: date) -> tuple[list[tuple[Decimal, Move]], Any]:
    total = to_fen(alloc.total)
    under = [s for s in alloc.slices if s.outside and s.drift < 0]
    if not under:
        return [], None
    kyc, valid_until = suitability_inputs(session, policy, c, today)
    products = session.execute(
        select(Product.asset_class, Product.code, Product.name, Product.risk_level,
               Product.min_amount_fen, Product.step_amount_fen, Product.expected_return_high_bp)
        .where(Product.active, Product.currency == "CNY",  # type: ignore[arg-type]
               Product.asset_class.in_([s.asset_class for s in under]),  # type: ignore[attr-defined]
               or_(Product.maturity_date.is_(None), Product.maturity_date > today))  # type: ignore[union-attr, operator]
        .order_by(Product.asset_class, Product.expected_return_high_bp.desc().nulls_last(),  # type: ignore[union-attr]
                  Product.code)).all()
    out: list[tuple[Decimal, Move]] = []
    refusal = None
    for s in under:
        want = int(-s.drift * total / 100)
        for ac, code, name, risk, min_fen, step_fen, _ret in products:
            if ac != s.asset_class:
                continue
            verdict = check_suitability(policy, kyc=kyc, customer_level=c.risk_level,
                                        valid_until=valid_until, product_risk=risk, today=today)
            if verdict.action != "allow":
                refusal = refusal or verdict
                continue
            amount = _fit(want, min_fen, step_fen)
            if amount <= 0:
                continue
            out.append((-s.drift, Move(0, "buy", ac, code, name, from_fen(amount), "CNY", s.drift,
                                       "products.move.buy",
                                       {"class": Msg(f"products.asset_class.{ac}"),
                                        "min": f"{from_fen(min_fen):,.2f}"})))
            break
    return out, refusal


def suggest_rebalancing(crm: Crm, actor: Actor, customer_id: int, *,
                        today: date | None = None) -> Rebalancing:
    """Ranked moves (largest drift first; a redemption before a purchase of the same drift)
    that bring each class outside its band back to its target, measured on today's total."""
    require(actor, Perm.CUSTOMER_VIEW)
    today = today or datetime.now(crm.tz).date()
    policy = crm.policy()
    with crm.db.read() as session:
        c = load_in_scope(session, actor, customer_id)
        alloc = allocation_for(session, policy, c, today)
        model = policy.portfolios.model_for(c.risk_level)
        if model is None or alloc.total <= 0:
            return Rebalancing(alloc, (), "products.rebalance.no_model" if model is None
                               else "products.rebalance.nothing_held")
        sells = _sells(session, c, alloc, today)
        buys, refusal = _buys(session, crm, policy, c, alloc, today)
    ranked = sorted(sells + buys, key=lambda m: (-abs(m[0]), m[1].action != "sell",
                                                 m[1].product_code))
    moves = tuple(Move(i, m.action, m.asset_class, m.product_code, m.product_name, m.amount,
                       m.currency, m.drift, m.reason_key, m.params)
                  for i, (_d, m) in enumerate(ranked[:policy.portfolios.max_suggestions], 1))
    blocked = refusal if refusal is not None and refusal.action == "block" and not buys else None
    return Rebalancing(alloc, moves, blocked.reason_key if blocked else None,
                       blocked.params if blocked else {})


def amount_fits(amount: Decimal, min_amount: Decimal, step: Decimal) -> bool:
    """Whether `amount` is a purchase the product accepts (tests and the sale form)."""
    a, m, s = to_fen(amount), to_fen(min_amount), to_fen(step)
    return a >= m and (s <= 0 or (a - m) % s == 0)



@dataclass(frozen=True)
class PanelData:
    rebalancing: Rebalancing
    model: ModelView | None

    @property
    def allocation(self) -> Allocation:
        return self.rebalancing.allocation


def allocation_panel(crm: Crm, actor: Actor, customer_id: int, *, today: date | None = None
                     ) -> PanelData:
    """What the profile's allocation panel shows: the mix, the model, the moves."""
    plan = suggest_rebalancing(crm, actor, customer_id, today=today)
    return PanelData(plan, model_view(crm.policy(), plan.allocation.risk_level))

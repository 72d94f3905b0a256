"""Asset allocation against the model portfolio for the customer's risk level: the value
per asset class (one GROUP BY in SQL), each class's weight, its drift from the target and
whether that drift leaves the tolerance band; and the holdings whose product risk the
suitability matrix no longer allows at the customer's level (after a downgrade, say)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import false, func, select, tuple_
from sqlmodel import Session

from crm_tui.domain.kernel.validation import from_fen
from crm_tui.domain.policy.document import Policy
from crm_tui.domain.policy.portfolio_policy import ASSET_CLASSES, ModelPortfolio
from crm_tui.domain.products.valuation import HOLDING
from crm_tui.store.models import Customer, Product
from crm_tui.store.models_products import join_valuation, valuation_columns

CENT = Decimal("0.01")


@dataclass(frozen=True)
class AllocationSlice:
    asset_class: str
    value: Decimal  # CNY
    weight: Decimal  # percent of the total, 2 places
    target: Decimal  # percent
    drift: Decimal  # weight − target, percentage points
    outside: bool  # |drift| > band


@dataclass(frozen=True)
class AboveRisk:
    customer_id: int
    product_code: str
    product_name: str
    product_risk: str
    customer_level: str
    value: Decimal  # CNY
    action: str  # block | approve (what the matrix says today)


@dataclass(frozen=True)
class Allocation:
    customer_id: int
    risk_level: str | None
    total: Decimal
    slices: tuple[AllocationSlice, ...]  # every asset class, in ASSET_CLASSES order
    band: Decimal | None  # None: no model (no risk level)
    above_risk: tuple[AboveRisk, ...] = ()

    @property
    def out_of_band(self) -> bool:
        return any(s.outside for s in self.slices)

    @property
    def worst_drift(self) -> Decimal:
        return max((abs(s.drift) for s in self.slices), default=Decimal(0))


def class_values(session: Session, customer_ids: Iterable[int], asof: date
                 ) -> dict[int, dict[str, int]]:
    """CNY fen per customer and asset class, summed in SQL."""
    lp, lr, _v, value_cny = valuation_columns(HOLDING, asof)
    q = join_valuation(
        select(HOLDING.c.customer_id, Product.asset_class,
               func.coalesce(func.sum(value_cny), 0))
        .select_from(HOLDING).join(Product, Product.id == HOLDING.c.product_id), HOLDING, lp, lr)
    q = (q.where(HOLDING.c.customer_id.in_(list(customer_ids)), HOLDING.c.units_e4 > 0)
         .group_by(HOLDING.c.customer_id, Product.asset_class))
    out: dict[int, dict[str, int]] = {}
    for cid, ac, fen in session.execute(q):
        out.setdefault(cid, {})[ac] = int(fen)
    return out


def build(customer_id: int, level: str | None, model: ModelPortfolio | None,
          values: dict[str, int], above: tuple[AboveRisk, ...] = ()) -> Allocation:
    """Weights and drift from the per-class sums (a handful of numbers, not holdings)."""
    total_fen = sum(values.values())
    slices = []
    for ac in ASSET_CLASSES:
        fen = values.get(ac, 0)
        weight = (Decimal(fen * 100) / total_fen).quantize(CENT, ROUND_HALF_UP) if total_fen else Decimal(0)
        target = model.target(ac) if model else Decimal(0)
        drift = weight - target if total_fen and model else Decimal(0)
        outside = bool(model and total_fen and abs(drift) > model.band)
        slices.append(AllocationSlice(ac, from_fen(fen), weight, target, drift, outside))
    return Allocation(customer_id, level, from_fen(total_fen), tuple(slices),
                      model.band if model else None, above)


def not_allowed_pairs(policy: Policy) -> list[tuple[str, str]]:
    """(customer level, product risk) pairs the matrix does not simply allow."""
    return [(c, r) for c, row in policy.suitability.matrix.items() for r, a in row.items()
            if a != "allow"]


def above_risk_clause(policy: Policy) -> Any:
    pairs = not_allowed_pairs(policy)
    if not pairs:
        return false()
    return tuple_(Customer.risk_level, Product.risk_level).in_(pairs)


def above_risk(session: Session, policy: Policy, customer_ids: Iterable[int], asof: date
               ) -> dict[int, tuple[AboveRisk, ...]]:
    """Holdings (with units) whose product risk is above what the customer may now buy."""
    lp, lr, _v, value_cny = valuation_columns(HOLDING, asof)
    q = join_valuation(
        select(HOLDING.c.customer_id, Product.code, Product.name, Product.risk_level,
               Customer.risk_level, func.coalesce(value_cny, 0))
        .select_from(HOLDING).join(Product, Product.id == HOLDING.c.product_id)
        .join(Customer, Customer.id == HOLDING.c.customer_id), HOLDING, lp, lr)
    q = q.where(HOLDING.c.customer_id.in_(list(customer_ids)), HOLDING.c.units_e4 > 0,
                above_risk_clause(policy))
    out: dict[int, list[AboveRisk]] = {}
    for cid, code, name, risk, level, fen in session.execute(q.order_by(HOLDING.c.customer_id,
                                                                        Product.code)):
        action = policy.suitability.cell(level, risk)[0]
        out.setdefault(cid, []).append(AboveRisk(cid, code, name, risk, level, from_fen(int(fen)), action))
    return {k: tuple(v) for k, v in out.items()}


def allocation_for(session: Session, policy: Policy, customer: Customer, asof: date
                   ) -> Allocation:
    cid = customer.id or 0
    values = class_values(session, [cid], asof).get(cid, {})
    above = above_risk(session, policy, [cid], asof).get(cid, ())
    return build(cid, customer.risk_level, policy.portfolios.model_for(customer.risk_level),
                 values, above)

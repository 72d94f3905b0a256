"""Early warning: cross-sell candidates — active customers (status active, relationship
open) whose positive holdings all sit in one product category. The complement of the
cross-sell rate's numerator (docs/METRICS.md); one GROUP BY … HAVING, keyset-paged on
(AUM ↓, id ↑) so the largest books come first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, distinct, func, or_, select

from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.reporting.base import KpiFilter, money, resolve
from crm_tui.domain.reporting.churn_risk import as_of_utc, default_filter, open_customers
from crm_tui.store.models import Customer, Holding, Product, Staff

PAGE = 100

Cursor = tuple[int, int]
"""(AUM in fen, customer id) of the last row of a page."""


@dataclass(frozen=True)
class CrossSellRow:
    customer_id: int
    customer: str
    rm: str | None
    rm_id: int | None
    aum: str
    aum_fen: int
    category: str
    """The one product category the customer holds."""

    def cursor(self) -> Cursor:
        return (self.aum_fen, self.customer_id)


def cross_sell_candidates(crm: Crm, actor: Actor, f: KpiFilter | None = None, *,
                          as_of: datetime | None = None, after: Cursor | None = None,
                          limit: int = PAGE) -> list[CrossSellRow]:
    """One page of candidates; pass the last row's `cursor()` as `after` for the next."""
    scope = resolve(crm, actor, f or default_filter(crm))
    base = and_(open_customers(actor, scope, as_of_utc(as_of)), Customer.status == "active")
    one = (select(Holding.customer_id.label("cid"), func.min(Product.category).label("category"))
           .join(Product, Product.id == Holding.product_id)
           .where(Holding.amount_fen > 0,
                  Holding.customer_id.in_(select(Customer.id).where(base)))  # type: ignore[attr-defined]
           .group_by(Holding.customer_id)
           .having(func.count(distinct(Product.category)) == 1).subquery("one"))
    q = (select(Customer.id, Customer.name, Staff.username, Customer.rm_id, Customer.aum_fen,
                one.c.category)
         .join(one, one.c.cid == Customer.id)
         .outerjoin(Staff, Staff.id == Customer.rm_id))
    if after is not None:
        aum, cid = after
        q = q.where(or_(Customer.aum_fen < aum,
                        and_(Customer.aum_fen == aum, Customer.id > cid)))  # type: ignore[operator]
    q = q.order_by(Customer.aum_fen.desc(), Customer.id).limit(limit)  # type: ignore[union-attr]
    with crm.db.read() as session:
        return [CrossSellRow(cid, name, rm, rm_id, money(aum), int(aum), category)
                for cid, name, rm, rm_id, aum, category in session.execute(q)]

"""Holdings at market value: each holding's units at its product's latest price (par when
none is loaded), converted to CNY at its currency's latest rate; AUM is the sum in CNY.

Everything here is one SQL statement over holdings joined to the latest price and rate
(see `store.models_products.valuation_columns`), grouped in the database; nothing loops
over holdings in Python. Units and prices are scaled integers, so no float is involved.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, select, update
from sqlmodel import Session

from crm_tui.store.models import Customer, Holding, Product
from crm_tui.store.models_products import (
    PAR_PRICE,
    PRICE_SCALE,
    UNIT_SCALE,
    ProductPrice,
    join_valuation,
    scaled_mul_py,
    valuation_columns,
)

HOLDING = Holding.__table__  # type: ignore[attr-defined]
CUSTOMER = Customer.__table__  # type: ignore[attr-defined]
PRODUCT = Product.__table__  # type: ignore[attr-defined]
FEN_PER_UNIT_E4 = UNIT_SCALE * PRICE_SCALE // 100  # fen × this / price_e6 = units_e4


def customer_values(asof: date, customer_ids: Iterable[int] | None = None,
                    product_ids: Iterable[int] | None = None):  # type: ignore[no-untyped-def]
    """SELECT customer_id, total CNY fen, over the customers holding anything (of
    `product_ids` if given); a holding without a rate for its currency counts as 0."""
    lp, lr, _value, value_cny = valuation_columns(HOLDING, asof)
    q = join_valuation(select(HOLDING.c.customer_id.label("customer_id"),
                              func.coalesce(func.sum(value_cny), 0).label("total"))
                       .select_from(HOLDING), HOLDING, lp, lr)
    if customer_ids is not None:
        q = q.where(HOLDING.c.customer_id.in_(list(customer_ids)))
    if product_ids is not None:
        holders = select(HOLDING.c.customer_id).where(
            HOLDING.c.product_id.in_(list(product_ids))).distinct()
        q = q.where(HOLDING.c.customer_id.in_(holders))
    return q.group_by(HOLDING.c.customer_id)


def refresh_aum(session: Session, asof: date, *, customer_ids: Iterable[int] | None = None,
                product_ids: Iterable[int] | None = None) -> int:
    """Set AUM to the market value in CNY for the customers with holdings (all, or those
    named, or the holders of `product_ids`), in one UPDATE … FROM; returns rows changed.
    Customers without any holding keep the AUM they were given (imported figures)."""
    v = customer_values(asof, customer_ids, product_ids).subquery("v")
    stmt = (update(CUSTOMER).where(CUSTOMER.c.id == v.c.customer_id,
                                   CUSTOMER.c.aum_fen != v.c.total)
            .values(aum_fen=v.c.total))
    return session.execute(stmt).rowcount or 0


def latest_price_e6(session: Session, product_id: int, asof: date) -> int:
    """The price a trade is made at: the newest on or before `asof`, else par."""
    found = session.scalar(
        select(ProductPrice.price_e6).where(ProductPrice.product_id == product_id,
                                            ProductPrice.price_date <= asof)
        .order_by(ProductPrice.price_date.desc()).limit(1))  # type: ignore[attr-defined]
    return int(found) if found else PAR_PRICE


def units_for(amount_fen: int, price_e6: int, *, round_up: bool = False) -> int:
    """Units × 10^4 that `amount_fen` buys (rounded down) or needs (rounded up)."""
    n = amount_fen * FEN_PER_UNIT_E4
    return -(-n // price_e6) if round_up else n // price_e6


def value_of(units_e4: int, price_e6: int) -> int:
    """The same rounding as the SQL: fen, half up."""
    return scaled_mul_py(units_e4, price_e6, FEN_PER_UNIT_E4)

"""The catalogue's tables: prices (NAV) per product and day, exchange rates per currency and
day; and the SQL that values a holding from them.

Exact decimals as scaled integers (SQLite's NUMERIC is a REAL): units × 10^4 on the holding,
price × 10^6 here, rate to CNY × 10^6 here, money in fen. `scaled_mul` multiplies two scaled
integers in SQL without leaving 64 bits and rounds half up, so both databases give the same
fen for the same holding.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ColumnElement, and_, case, func, literal, select
from sqlmodel import Field, SQLModel

UNIT_SCALE = 10_000  # units are stored × 10^4
PRICE_SCALE = 1_000_000  # prices × 10^6
RATE_SCALE = 1_000_000  # rates to CNY × 10^6
PAR_PRICE = PRICE_SCALE  # a product without a price is valued at par (1.000000)
# fen = units_e4 × price_e6 / 10^8 (units × 10^4 × price × 10^6 = yuan × 10^10 = fen × 10^8)
VALUE_DIVISOR = UNIT_SCALE * PRICE_SCALE // 100


class ProductPrice(SQLModel, table=True):
    __tablename__ = "product_price"
    __table_args__ = (CheckConstraint("price_e6 > 0", name="ck_product_price_positive"),)
    product_id: int = Field(foreign_key="product.id", primary_key=True)
    price_date: date = Field(primary_key=True)
    price_e6: int = Field(sa_type=BigInteger(), nullable=False)


class ExchangeRate(SQLModel, table=True):
    __tablename__ = "exchange_rate"
    __table_args__ = (CheckConstraint("rate_e6 > 0", name="ck_exchange_rate_positive"),)
    currency: str = Field(max_length=3, primary_key=True)
    rate_date: date = Field(primary_key=True)
    rate_e6: int = Field(sa_type=BigInteger(), nullable=False)


def scaled_mul(a: Any, b: Any, divisor: int) -> ColumnElement[int]:
    """round_half_up(a × b / divisor) for non-negative integers, in SQL, never past 64 bits
    as long as (divisor × b) and (a / divisor × b) fit: a = q·d + r, so a·b/d = q·b + r·b/d."""
    return (a // divisor) * b + ((a % divisor) * b + divisor // 2) // divisor


def scaled_mul_py(a: int, b: int, divisor: int) -> int:
    """The same rounding in Python (for a single trade)."""
    return (a * b + divisor // 2) // divisor


def _latest(table: Any, key: Any, day: Any, value: Any, asof: date, name: str) -> Any:
    """(key, value) at each key's newest day on or before `asof`: a handful of rows,
    computed once (a MATERIALIZED CTE) and then joined, never re-run per holding."""
    newest = (select(key.label("k"), func.max(day).label("d")).where(day <= asof)
              .group_by(key).subquery(f"{name}_day"))
    return (select(key, value).join(newest, and_(newest.c.k == key, newest.c.d == day))
            .cte(name, nesting=True).prefix_with("MATERIALIZED"))


def latest_prices(asof: date) -> Any:
    """(product_id, price_e6) of each product's newest price on or before `asof`."""
    pp = ProductPrice.__table__  # type: ignore[attr-defined]
    return _latest(pp, pp.c.product_id, pp.c.price_date, pp.c.price_e6, asof, "latest_price")


def latest_rates(asof: date) -> Any:
    """(currency, rate_e6) of each currency's newest rate on or before `asof`."""
    er = ExchangeRate.__table__  # type: ignore[attr-defined]
    return _latest(er, er.c.currency, er.c.rate_date, er.c.rate_e6, asof, "latest_rate")


def valuation_columns(holding: Any, asof: date) -> tuple[Any, Any, Any, Any]:
    """(price subquery, rate subquery, value in the holding's currency in fen, value in CNY
    in fen or NULL without a rate) for a select over `holding` outer-joined to both."""
    lp = latest_prices(asof)
    lr = latest_rates(asof)
    price = func.coalesce(lp.c.price_e6, literal(PAR_PRICE))
    value = scaled_mul(holding.c.units_e4, price, VALUE_DIVISOR)
    value_cny = case((holding.c.currency == "CNY", value),
                     else_=scaled_mul(value, lr.c.rate_e6, RATE_SCALE))
    return lp, lr, value, value_cny


def join_valuation(query: Any, holding: Any, lp: Any, lr: Any) -> Any:
    """Outer-join the latest price and rate onto a select that already has `holding`."""
    return (query.outerjoin(lp, lp.c.product_id == holding.c.product_id)
            .outerjoin(lr, and_(lr.c.currency == holding.c.currency)))

"""The lists RMs and supervisors work from, in the actor's scope, paged by keyset and
exportable: customers out of band, holdings above the customer's risk level, and holdings
maturing soon.

"Out of band" is decided per customer from the per-class sums (one GROUP BY per chunk of
customers), so a page scans customers in id order a chunk at a time and stops when it is
full — or after `MAX_SCAN` customers, returning what it found and where to go on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import exists, func, select, tuple_

from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, ValidationFailed
from crm_tui.domain.kernel.permissions import Perm, customer_scope, require
from crm_tui.domain.kernel.safe_files import protected_for
from crm_tui.domain.kernel.validation import from_fen
from crm_tui.domain.products.allocation import above_risk_clause, build, class_values
from crm_tui.domain.products.export import write_csv_atomic
from crm_tui.domain.products.valuation import HOLDING
from crm_tui.i18n import t
from crm_tui.store.models import Customer, Product, Staff
from crm_tui.store.models_products import join_valuation, valuation_columns

PAGE = 50
CHUNK = 500
MAX_SCAN = 20_000
LISTS = ("out_of_band", "above_risk", "maturing")


@dataclass(frozen=True)
class OutOfBandRow:
    customer_id: int
    customer_name: str
    rm_name: str
    risk_level: str
    total: Decimal
    worst_class: str
    worst_drift: Decimal
    classes_out: int


@dataclass(frozen=True)
class HoldingRow:
    holding_id: int
    customer_id: int
    customer_name: str
    rm_name: str
    risk_level: str
    product_code: str
    product_name: str
    product_risk: str
    value_cny: Decimal
    maturity_date: date | None

    def cursor(self) -> Any:
        return self.holding_id


@dataclass(frozen=True)
class Page:
    rows: tuple[Any, ...]
    after: Any  # pass back for the next page; None: the list is done


def _today(crm: Crm, today: date | None) -> date:
    return today or datetime.now(crm.tz).date()


def out_of_band(crm: Crm, actor: Actor, *, after: int = 0, limit: int = PAGE,
                today: date | None = None) -> Page:
    require(actor, Perm.CUSTOMER_VIEW)
    today = _today(crm, today)
    policy = crm.policy()
    found: list[OutOfBandRow] = []
    scanned = 0
    cursor = after
    held = exists().where(HOLDING.c.customer_id == Customer.id, HOLDING.c.units_e4 > 0)
    with crm.db.read() as session:
        while len(found) < limit and scanned < MAX_SCAN:
            chunk = session.execute(
                select(Customer.id, Customer.name, Customer.risk_level, Staff.display_name)
                .outerjoin(Staff, Staff.id == Customer.rm_id)
                .where(customer_scope(actor), Customer.id > cursor,
                       Customer.risk_level.is_not(None), held)  # type: ignore[union-attr]
                .order_by(Customer.id).limit(CHUNK)).all()
            if not chunk:
                return Page(tuple(found), None)
            values = class_values(session, [r[0] for r in chunk], today)
            for cid, name, level, rm in chunk:
                cursor = cid
                alloc = build(cid, level, policy.portfolios.model_for(level), values.get(cid, {}))
                if alloc.out_of_band:
                    worst = max(alloc.slices, key=lambda s: abs(s.drift))
                    found.append(OutOfBandRow(cid, name, rm or "", level, alloc.total,
                                              worst.asset_class, worst.drift,
                                              sum(1 for s in alloc.slices if s.outside)))
                    if len(found) >= limit:
                        break
            scanned += len(chunk)
            if len(chunk) < CHUNK and len(found) < limit:
                return Page(tuple(found), None)
    return Page(tuple(found), cursor)


def _holding_rows(crm: Crm, actor: Actor, where: list[Any], order: list[Any], limit: int,
                  today: date) -> list[HoldingRow]:
    lp, lr, _v, value_cny = valuation_columns(HOLDING, today)
    q = join_valuation(
        select(HOLDING.c.id, Customer.id, Customer.name, Staff.display_name, Customer.risk_level,
               Product.code, Product.name, Product.risk_level, func.coalesce(value_cny, 0),
               Product.maturity_date)
        .select_from(HOLDING).join(Product, Product.id == HOLDING.c.product_id)
        .join(Customer, Customer.id == HOLDING.c.customer_id)
        .outerjoin(Staff, Staff.id == Customer.rm_id), HOLDING, lp, lr)
    q = q.where(customer_scope(actor), HOLDING.c.units_e4 > 0, *where).order_by(*order)
    with crm.db.read() as session:
        rows = session.execute(q.limit(max(1, min(limit, 1000)))).all()
    return [HoldingRow(hid, cid, name, rm or "", level or "", code, pname, risk,
                       from_fen(int(v)), mat)
            for hid, cid, name, rm, level, code, pname, risk, v, mat in rows]


def above_risk(crm: Crm, actor: Actor, *, after: int = 0, limit: int = PAGE,
               today: date | None = None) -> Page:
    """Holdings whose product risk the matrix no longer allows at the customer's level."""
    require(actor, Perm.CUSTOMER_VIEW)
    rows = _holding_rows(crm, actor, [above_risk_clause(crm.policy()), HOLDING.c.id > after],
                         [HOLDING.c.id], limit, _today(crm, today))
    return Page(tuple(rows), rows[-1].holding_id if len(rows) == limit else None)


def maturing(crm: Crm, actor: Actor, *, after: tuple[str, int] | None = None,
             limit: int = PAGE, days: int = 60, today: date | None = None) -> Page:
    """Holdings maturing in the next `days`, soonest first (keyset: maturity date, id)."""
    require(actor, Perm.CUSTOMER_VIEW)
    if not 1 <= days <= 366:
        raise ValidationFailed([FieldError("days", "validation.max", {"max": 366})])
    today = _today(crm, today)
    where = [Product.maturity_date > today, Product.maturity_date <= today + timedelta(days=days)]  # type: ignore[operator]
    if after is not None:
        where.append(tuple_(Product.maturity_date, HOLDING.c.id) > (date.fromisoformat(after[0]), after[1]))
    rows = _holding_rows(crm, actor, where, [Product.maturity_date, HOLDING.c.id], limit, today)
    last = rows[-1] if len(rows) == limit else None
    return Page(tuple(rows), (last.maturity_date.isoformat(), last.holding_id)  # type: ignore[union-attr]
                if last else None)


PAGERS: dict[str, Callable[..., Page]] = {"out_of_band": out_of_band, "above_risk": above_risk,
                                          "maturing": maturing}


def _all(crm: Crm, actor: Actor, kind: str, today: date) -> Iterator[Any]:
    after: Any = 0 if kind != "maturing" else None
    while True:
        page = PAGERS[kind](crm, actor, after=after, limit=500, today=today)
        yield from page.rows
        if page.after is None:
            return
        after = page.after


def _cells(row: Any) -> list[Any]:
    if isinstance(row, OutOfBandRow):
        return [row.customer_id, row.customer_name, row.rm_name, row.risk_level, row.total,
                t(f"products.asset_class.{row.worst_class}"), row.worst_drift, row.classes_out]
    return [row.customer_id, row.customer_name, row.rm_name, row.risk_level, row.product_code,
            row.product_name, row.product_risk, row.value_cny,
            row.maturity_date.isoformat() if row.maturity_date else ""]


def export_list(crm: Crm, actor: Actor, kind: str, path: Path, *,
                today: date | None = None) -> int:
    """The whole list (page by page) to a 0600 CSV written atomically; audited."""
    require(actor, Perm.CUSTOMER_VIEW)
    if kind not in LISTS:
        raise ValidationFailed([FieldError("list", "validation.choice", {"value": kind})])
    today = _today(crm, today)
    cols = ("customer_id", "customer", "rm", "risk_level", "total", "worst_class", "drift",
            "classes_out") if kind == "out_of_band" else (
        "customer_id", "customer", "rm", "risk_level", "product", "product_name",
        "product_risk", "value_cny", "maturity_date")
    n = write_csv_atomic(path, [t(f"products.list.col.{c}") for c in cols],
                         (_cells(r) for r in _all(crm, actor, kind, today)),
                         protected=protected_for(crm))
    with crm.db.write() as session:
        audit.record(crm.db, session, actor, "products.list.export", "list", kind, None,
                     {"rows": n, "file": Path(path).name})
    return n


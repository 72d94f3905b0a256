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
from sqlmodel import Session

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
WINDOW = 10_000  # customer ids per query of a chunked scan
HOLDING_CHUNK = 4000  # a maturing product's holdings, read in id order, then scoped
MAX_HOLDING_SCAN = 200_000
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


def _customer_chunks(session: Session, actor: Actor, after: int, *extra: Any
                    ) -> Iterator[list[Any]]:
    """The actor's customers after id `after`, in id order, at most `CHUNK` at a time, with
    their name, risk level and RM.

    Each query looks at one window of `WINDOW` ids: with an index on (rm_id, id) or
    (branch_id, id) (migration 0019) an RM's or a branch's window is one index range, and a
    team's (rm_id IN …) is one small range per member, sorted in a few thousand rows rather
    than the whole team's book."""
    top = session.scalar(select(func.max(Customer.id))) or 0
    cursor = after
    while cursor < top:
        window_end = cursor + WINDOW
        chunk = session.execute(
            select(Customer.id, Customer.name, Customer.risk_level, Staff.display_name)
            .outerjoin(Staff, Staff.id == Customer.rm_id)
            .where(customer_scope(actor), Customer.id > cursor,
                   Customer.id <= window_end, *extra)  # type: ignore[operator]
            .order_by(Customer.id).limit(CHUNK)).all()
        if chunk:
            yield chunk
        cursor = chunk[-1][0] if len(chunk) == CHUNK else window_end


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
        for chunk in _customer_chunks(session, actor, after,
                                      Customer.risk_level.is_not(None), held):  # type: ignore[union-attr]
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
                        return Page(tuple(found), cursor)
            scanned += len(chunk)
            if scanned >= MAX_SCAN:
                return Page(tuple(found), cursor)
    return Page(tuple(found), None)


def _holding_rows(session: Session, ids: list[int], order: list[Any], today: date
                  ) -> list[HoldingRow]:
    """The page's holdings (found by id first) with names and their value in CNY: the
    valuation joins run over these rows only, never over the whole scope."""
    if not ids:
        return []
    lp, lr, _v, value_cny = valuation_columns(HOLDING, today)
    q = join_valuation(
        select(HOLDING.c.id, Customer.id, Customer.name, Staff.display_name, Customer.risk_level,
               Product.code, Product.name, Product.risk_level, func.coalesce(value_cny, 0),
               Product.maturity_date)
        .select_from(HOLDING).join(Product, Product.id == HOLDING.c.product_id)
        .join(Customer, Customer.id == HOLDING.c.customer_id)
        .outerjoin(Staff, Staff.id == Customer.rm_id), HOLDING, lp, lr)
    rows = session.execute(q.where(HOLDING.c.id.in_(ids)).order_by(*order)).all()
    return [HoldingRow(hid, cid, name, rm or "", level or "", code, pname, risk,
                       from_fen(int(v)), mat)
            for hid, cid, name, rm, level, code, pname, risk, v, mat in rows]


def above_risk(crm: Crm, actor: Actor, *, after: tuple[int, int] | None = None,
               limit: int = PAGE, today: date | None = None) -> Page:
    """Holdings whose product risk the matrix no longer allows at the customer's level, by
    customer then holding (keyset: customer id, holding id), found a chunk of the actor's
    customers at a time."""
    require(actor, Perm.CUSTOMER_VIEW)
    limit = max(1, min(limit, 1000))
    clause = above_risk_clause(crm.policy())
    last_customer, last_holding = after or (0, 0)
    found: list[tuple[int, int]] = []
    scanned, scanned_to = 0, 0
    with crm.db.read() as session:
        for chunk in _customer_chunks(session, actor, max(0, last_customer - 1)):
            hits = session.execute(
                select(HOLDING.c.customer_id, HOLDING.c.id)
                .join(Customer, Customer.id == HOLDING.c.customer_id)
                .join(Product, Product.id == HOLDING.c.product_id)
                .where(HOLDING.c.customer_id.in_([r[0] for r in chunk]), HOLDING.c.units_e4 > 0,
                       tuple_(HOLDING.c.customer_id, HOLDING.c.id) > (last_customer, last_holding),
                       clause)
                .order_by(HOLDING.c.customer_id, HOLDING.c.id).limit(limit - len(found))).all()
            found += [(int(c), int(h)) for c, h in hits]
            scanned, scanned_to = scanned + len(chunk), chunk[-1][0]
            if len(found) >= limit or scanned >= MAX_SCAN:
                break
        rows = _holding_rows(session, [h for _c, h in found], [Customer.id, HOLDING.c.id],
                             _today(crm, today))
    if len(found) >= limit:
        return Page(tuple(rows), found[-1])
    # a long stretch of the book without a hit: what was found, and where to go on
    return Page(tuple(rows), (scanned_to + 1, 0) if scanned >= MAX_SCAN else None)


def maturing(crm: Crm, actor: Actor, *, after: tuple[str, int, int] | None = None,
             limit: int = PAGE, days: int = 60, today: date | None = None) -> Page:
    """Holdings maturing in the next `days`, soonest first (keyset: maturity date, product,
    holding). The maturing products are few: each one's holdings are read in id order a
    chunk at a time and kept where the customer is in the actor's scope."""
    require(actor, Perm.CUSTOMER_VIEW)
    if not 1 <= days <= 366:
        raise ValidationFailed([FieldError("days", "validation.max", {"max": 366})])
    limit = max(1, min(limit, 1000))
    today = _today(crm, today)
    start = (date.fromisoformat(after[0]), after[1], after[2]) if after else (today, 0, 0)
    found: list[tuple[date, int, int]] = []
    scanned, resume = 0, None
    with crm.db.read() as session:
        products = session.execute(
            select(Product.maturity_date, Product.id)
            .where(Product.maturity_date > today,  # type: ignore[operator]
                   Product.maturity_date <= today + timedelta(days=days),  # type: ignore[operator]
                   tuple_(Product.maturity_date, Product.id) >= start[:2])
            .order_by(Product.maturity_date, Product.id)).all()
        for day, pid in products:
            last = start[2] if (day, pid) == start[:2] else 0
            while len(found) < limit:
                chunk = session.execute(
                    select(HOLDING.c.id, HOLDING.c.customer_id)
                    .where(HOLDING.c.product_id == pid, HOLDING.c.id > last,
                           HOLDING.c.units_e4 > 0)
                    .order_by(HOLDING.c.id).limit(HOLDING_CHUNK)).all()
                if not chunk:
                    break
                mine = set(session.scalars(select(Customer.id).where(
                    Customer.id.in_({c for _h, c in chunk}), customer_scope(actor))))  # type: ignore[union-attr]
                found += [(day, pid, h) for h, c in chunk if c in mine][:limit - len(found)]
                last, scanned = chunk[-1][0], scanned + len(chunk)
                if scanned >= MAX_HOLDING_SCAN and len(found) < limit:
                    resume = (day.isoformat(), pid, last)  # go on from here next time
                    break
                if len(chunk) < HOLDING_CHUNK:
                    break
            if len(found) >= limit or resume:
                break
        rows = _holding_rows(session, [h for _d, _p, h in found],
                             [Product.maturity_date, Product.id, HOLDING.c.id], today)
    if len(found) < limit:
        return Page(tuple(rows), resume)
    day, pid, hid = found[-1]
    return Page(tuple(rows), (day.isoformat(), pid, hid))


PAGERS: dict[str, Callable[..., Page]] = {"out_of_band": out_of_band, "above_risk": above_risk,
                                          "maturing": maturing}
FIRST: dict[str, Any] = {"out_of_band": 0, "above_risk": None, "maturing": None}
"""The `after` that asks each list for its first page."""


def _all(crm: Crm, actor: Actor, kind: str, today: date) -> Iterator[Any]:
    after: Any = FIRST[kind]
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


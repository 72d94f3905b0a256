"""`crm products import`, `crm import prices` and `crm import rates`: catalogue, NAV and
exchange-rate files (CSV in UTF-8/GBK or XLSX, English or Chinese headers, through
`readers.open_table`) with the customer import's rules: every bad row named
(`row N: field: reason`) and written to a 0600 rejects file beside the source, good rows
stored, and running the same file again changes nothing (keyed by product code, by
product and date, by currency and date). Prices and rates revalue the holders' AUM in the
same transaction as the rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, tuple_, update

from crm_tui.domain.data_io.readers import ImportFileError, TableFile, open_table
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError
from crm_tui.domain.kernel.fields import clean, fields_of, header_map, normalise_header
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.safe_files import protected_for
from crm_tui.domain.products import fields as F
from crm_tui.domain.products.catalogue import clean_product, store_products
from crm_tui.domain.products.export import write_csv_atomic
from crm_tui.domain.products.valuation import refresh_aum
from crm_tui.i18n import LANGUAGES, catalog, t
from crm_tui.store.models import Product
from crm_tui.store.models_products import PRICE_SCALE, RATE_SCALE, ExchangeRate, ProductPrice

CHUNK = 5000
PRICE_PLACES = 6


@dataclass
class FileReport:
    file: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    revalued: int = 0
    rejects_path: Path | None = None
    errors: list[FieldError] | None = None

    @property
    def ok(self) -> bool:
        return self.rejected == 0


def _labels(key: str) -> list[str]:
    return [catalog(lang)[key] for lang in LANGUAGES if key in catalog(lang)]


def _mapper(entity: str) -> Callable[[list[str]], list[str | None]]:
    known = header_map(entity, _labels)
    required = [s.key for s in fields_of(entity) if s.required]

    def mapper(headers: list[str]) -> list[str | None]:
        out: list[str | None] = []
        seen: dict[str, str] = {}
        for col, raw in enumerate(headers, start=1):
            text = str(raw or "").strip()
            if not text:
                out.append(None)
                continue
            key = known.get(normalise_header(text))
            if key is None:
                raise ImportFileError("import.error.unknown_header", header=text, column=col,
                                      known=", ".join(s.key for s in fields_of(entity)))
            if key in seen:
                raise ImportFileError("import.error.duplicate_header", header=text,
                                      other=seen[key])
            seen[key] = text
            out.append(key)
        missing = [k for k in required if k not in seen]
        if missing:
            raise ImportFileError("import.error.missing_header", fields=", ".join(missing))
        return out

    return mapper


def _records(table: TableFile) -> Any:
    width = len(table.fields)
    for number, cells in table.rows():
        if len(cells) > width and any(str(c).strip() for c in cells[width:]):
            yield number, cells, None, FieldError("", "import.error.cells",
                                                  {"cells": len(cells), "columns": width}, number)
            continue
        yield number, cells, {f: c for f, c in zip(table.fields, cells, strict=False) if f}, None


class _Rejects:
    """Bad rows as given plus the reason, written atomically (0600) when the import ends."""

    def __init__(self, source: Path, headers: list[str]) -> None:
        self.source = source
        self.path = source.with_name(source.name + ".rejects.csv")
        self.headers = headers
        self.rows: list[list[Any]] = []

    def add(self, cells: list[Any], errors: list[FieldError]) -> None:
        row = ["" if c is None else (c.isoformat() if isinstance(c, date | datetime) else c)
               for c in cells]
        row += [""] * (len(self.headers) - len(row))
        self.rows.append([*row, " | ".join(e.line() for e in errors)])

    def write(self, crm: Crm, report: FileReport) -> None:
        if self.rows:
            write_csv_atomic(self.path, [*self.headers, t("import.rejects.error_column")],
                             self.rows, protected=protected_for(crm, inputs=[self.source]))
            report.rejects_path = self.path


def _reject(report: FileReport, rejects: _Rejects, cells: list[Any],
            errors: list[FieldError], on_error: Callable[[FieldError], None] | None) -> None:
    report.rejected += 1
    rejects.add(cells, errors)
    report.errors = (report.errors or []) + errors
    for e in errors:
        if on_error:
            on_error(e)


def import_products(crm: Crm, actor: Actor, path: Path, *,
                    on_error: Callable[[FieldError], None] | None = None) -> FileReport:
    """The catalogue file: one product per row, keyed by code; codes already stored are
    updated where a column differs (so a second run reports them unchanged)."""
    require(actor, Perm.PRODUCT_MANAGE)
    path = Path(path)
    table = open_table(path, _mapper(F.PRODUCT))
    report, rejects = FileReport(path.name), _Rejects(path, table.headers)
    good: list[dict[str, Any]] = []
    first_row: dict[str, int] = {}
    for number, cells, raw, bad in _records(table):
        report.rows += 1
        if bad is not None:
            _reject(report, rejects, cells, [bad], on_error)
            continue
        cols, errors = clean_product(raw or {}, row=number)
        if cols is not None and cols["code"] in first_row:
            errors = [FieldError("product_code", "products.validation.duplicate_row",
                                 {"row": first_row[cols["code"]]}, number)]
        if errors or cols is None:
            _reject(report, rejects, cells, errors, on_error)
            continue
        first_row[cols["code"]] = number
        good.append(cols)
    if good:
        with crm.db.write() as session:
            report.created, report.updated, report.unchanged = store_products(
                crm, session, actor, good, path.name)
    rejects.write(crm, report)
    return report


def _decimal_places(value: Decimal) -> int:
    return max(0, -value.normalize().as_tuple().exponent)  # type: ignore[operator]


def _scaled(value: Decimal, scale: int) -> int:
    return int(value * scale)


def _import_series(crm: Crm, actor: Actor, path: Path, entity: str, *,
                   on_error: Callable[[FieldError], None] | None) -> FileReport:
    """Prices (product_code, price_date, price) or rates (currency, rate_date, rate_to_cny)."""
    require(actor, Perm.DATA_IMPORT)
    path = Path(path)
    prices = entity == F.PRICE
    table = open_table(path, _mapper(entity))
    report, rejects = FileReport(path.name), _Rejects(path, table.headers)
    key_f, date_f, value_f = (("product_code", "price_date", "price") if prices
                              else ("currency", "rate_date", "rate_to_cny"))
    with crm.db.read() as session:
        product_ids = dict(session.execute(select(Product.code, Product.id)).all()) if prices else {}
    seen: dict[tuple[Any, date], int] = {}
    batch: list[tuple[Any, date, int]] = []
    touched: set[Any] = set()
    for number, cells, raw, bad in _records(table):
        report.rows += 1
        if bad is not None:
            _reject(report, rejects, cells, [bad], on_error)
            continue
        out, errors = clean(entity, raw or {}, row=number)
        value = out.get(value_f)
        if value is not None and _decimal_places(value) > PRICE_PLACES:
            errors.append(FieldError(value_f, "products.validation.places",
                                     {"places": PRICE_PLACES}, number))
        key = out.get(key_f)
        if prices and key and key not in product_ids:
            errors.append(FieldError(key_f, "products.error.unknown_product", {"code": key},
                                     number))
        if not prices and key == "CNY":
            errors.append(FieldError(key_f, "products.validation.cny_rate", {}, number))
        ident = (product_ids.get(key, key) if prices else key, out.get(date_f))
        if not errors and ident in seen:
            errors.append(FieldError(date_f, "products.validation.duplicate_row",
                                     {"row": seen[ident]}, number))
        if errors:
            _reject(report, rejects, cells, errors, on_error)
            continue
        seen[ident] = number
        batch.append((ident[0], ident[1], _scaled(value, PRICE_SCALE if prices else RATE_SCALE)))
        touched.add(ident[0])
        if len(batch) >= CHUNK:
            _store_series(crm, actor, batch, prices, report, path.name)
            batch = []
    if batch:
        _store_series(crm, actor, batch, prices, report, path.name)
    if touched and (report.created or report.updated):
        today = datetime.now(crm.tz).date()
        with crm.db.write() as session:
            if prices:
                report.revalued = refresh_aum(session, today, product_ids=touched)
            else:
                report.revalued = _refresh_currency_holders(session, today, touched)
    rejects.write(crm, report)
    return report


def _refresh_currency_holders(session: Any, today: date, currencies: set[str]) -> int:
    from crm_tui.store.models import Holding

    ids = select(Holding.product_id).where(Holding.currency.in_(currencies)).distinct()  # type: ignore[attr-defined]
    return refresh_aum(session, today, product_ids=session.scalars(ids).all())


def _store_series(crm: Crm, actor: Actor, batch: list[tuple[Any, date, int]], prices: bool,
                  report: FileReport, source: str) -> None:
    """Insert new (key, date) rows, correct changed ones; one transaction per chunk."""
    model = ProductPrice if prices else ExchangeRate
    table = model.__table__  # type: ignore[attr-defined]
    k, d, v = ((table.c.product_id, table.c.price_date, table.c.price_e6) if prices
               else (table.c.currency, table.c.rate_date, table.c.rate_e6))
    with crm.db.write() as session:
        existing = {(a, b): c for a, b, c in session.execute(
            select(k, d, v).where(tuple_(k, d).in_([(a, b) for a, b, _ in batch])))}
        new = [{k.name: a, d.name: b, v.name: c} for a, b, c in batch if (a, b) not in existing]
        changed = [(a, b, c) for a, b, c in batch if (a, b) in existing and existing[(a, b)] != c]
        if new:
            session.execute(insert(table), new)
        for a, b, c in changed:
            session.execute(update(table).where(k == a, d == b).values({v.name: c}))
        report.created += len(new)
        report.updated += len(changed)
        report.unchanged += len(batch) - len(new) - len(changed)
        if new or changed:
            audit.record(crm.db, session, actor, "price.import" if prices else "rate.import",
                         table.name, source, None,
                         {"created": len(new), "updated": len(changed)})


def import_prices(crm: Crm, actor: Actor, path: Path, *,
                  on_error: Callable[[FieldError], None] | None = None) -> FileReport:
    return _import_series(crm, actor, path, F.PRICE, on_error=on_error)


def import_rates(crm: Crm, actor: Actor, path: Path, *,
                 on_error: Callable[[FieldError], None] | None = None) -> FileReport:
    return _import_series(crm, actor, path, F.RATE, on_error=on_error)

"""`crm export customers`: a CSV or XLSX of the customers the actor may export.

The columns are the customer field registry's export columns, headed by their labels in the
user's language; choice values (ID type, status, ...) are shown by their labels too.
Sensitive values are exported masked (an export is not a reveal). XLSX cells carry real
types: amounts are numbers with a money format, dates are dates, times are shown in the
display zone (named in the header); CSV keeps ISO 8601 (times with their offset). Every text
cell that a spreadsheet would run as a formula (`= + - @`, tab, CR) is defused with a leading
apostrophe. Rows are read in keyset pages and written as a stream; the file appears under
its name only after the export's audit event has committed.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.orm import aliased

from crm_tui.domain.customers.custom_values import display, plain_value
from crm_tui.domain.customers.custom_values import mask as mask_custom
from crm_tui.domain.customers.fields import EXPORT_FIELDS
from crm_tui.domain.forms.registry import CustomField, custom_fields
from crm_tui.domain.kernel import audit, safe_files
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import DomainError, translate
from crm_tui.domain.kernel.fields import FieldSpec, choice_label_key
from crm_tui.domain.kernel.masking import MASKERS
from crm_tui.domain.kernel.permissions import Perm, Role, customer_scope, require
from crm_tui.domain.kernel.validation import from_fen
from crm_tui.store.models import Branch, Customer, Staff

PAGE_ROWS = 1000
FORMATS = ("csv", "xlsx")
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Translate = Callable[..., str]
COLUMNS: tuple[str, ...] = tuple(s.label_key for s in EXPORT_FIELDS)
"""Catalog keys of the headers, in file order."""


class ExportRefused(DomainError):
    key = "export.error.refused"


@dataclass(frozen=True)
class ExportReport:
    path: Path
    format: str
    rows: int


def defuse(value: Any) -> Any:
    """Make a text cell inert in a spreadsheet: `=SUM(…)` becomes `'=SUM(…)`."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _scope(actor: Actor) -> Any:
    # An administrator exports the whole book for migration or archive, masked; everybody
    # else exports what their scope lets them see.
    return true() if actor.role == Role.ADMIN else customer_scope(actor)


_RM = aliased(Staff)
_JOINED = {"branch_code": Branch.code, "rm_username": _RM.username}


def _source(spec: FieldSpec) -> Any:
    """The SQL column an export field is read from."""
    if spec.key in _JOINED:
        return _JOINED[spec.key]
    if spec.sensitive:
        return getattr(Customer, f"{spec.key}_enc")
    if spec.type == "money":
        return getattr(Customer, f"{spec.key}_fen")
    return getattr(Customer, spec.key)


def _pages(crm: Crm, actor: Actor) -> Iterator[list[Any]]:
    base = (
        select(*(_source(s) for s in EXPORT_FIELDS), Customer.custom)
        .outerjoin(Branch, Branch.id == Customer.branch_id)
        .outerjoin(_RM, _RM.id == Customer.rm_id)
        .where(_scope(actor))
        .order_by(Customer.id)
        .limit(PAGE_ROWS)
    )
    last = 0
    while True:
        with crm.db.read() as session:
            rows = session.execute(base.where(Customer.id > last)).all()  # type: ignore[operator]
        if not rows:
            return
        yield rows
        last = rows[-1][0]


@dataclass(frozen=True)
class _Shaper:
    """Turns a row into typed cell values: masked, labelled, in the display zone."""

    crm: Crm
    translate: Translate
    tz: tzinfo
    typed: bool  # XLSX: numbers, dates and datetimes stay typed; CSV: ISO text
    custom: tuple[CustomField, ...] = ()
    """Custom fields, retired ones included: their stored values stay exportable."""

    def value(self, spec: FieldSpec, raw: Any) -> Any:
        if raw is None:
            return ""
        if spec.sensitive:
            return MASKERS[spec.key](self.crm.keys.decrypt(spec.key, raw))
        label = choice_label_key(spec, raw)
        if label is not None:
            return self.translate(label)
        if spec.type == "money":
            amount = from_fen(raw)
            return amount if self.typed else str(amount)
        if isinstance(raw, datetime):
            local = raw.astimezone(self.tz)
            return local.replace(tzinfo=None) if self.typed else local.isoformat(timespec="seconds")
        if isinstance(raw, date):
            return raw if self.typed else raw.isoformat()
        return defuse(raw)

    def custom_value(self, f: CustomField, stored: Any) -> Any:
        value = plain_value(self.crm, f, stored)
        if value is None:
            return ""
        if f.spec.sensitive:
            return mask_custom(display(value))
        if f.spec.type == "decimal" and self.typed:
            return Decimal(str(value))
        if f.spec.type == "date" and self.typed:
            return date.fromisoformat(str(value))
        if isinstance(value, bool | list):
            return display(value)
        return defuse(value)

    def row(self, row: Any) -> list[Any]:
        *builtin, custom = row
        cells = [self.value(s, v) for s, v in zip(EXPORT_FIELDS, builtin, strict=True)]
        custom = custom or {}
        return cells + [self.custom_value(f, custom.get(f.key)) for f in self.custom]

    def headers(self) -> list[str]:
        zone = str(getattr(self.tz, "key", self.tz))
        lang = self.translate("lang.code")
        return [defuse(f"{self.translate(s.label_key)} ({zone})" if self.typed and s.type == "datetime"
                       else self.translate(s.label_key)) for s in EXPORT_FIELDS] + [
            defuse(f.label(lang)) for f in self.custom]

    def formats(self) -> list[str | None]:
        return [_NUMBER_FORMATS.get(s.type) for s in EXPORT_FIELDS] + [
            DATE_FORMAT if f.spec.type == "date" else None for f in self.custom]


_NUMBER_FORMATS = {"money": MONEY_FORMAT, "date": DATE_FORMAT, "datetime": TIME_FORMAT}


def _write_xlsx(tmp: Path, shaper: _Shaper, pages: Iterator[list[Any]],
                on_page: Callable[[int], None]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(shaper.translate("export.sheet_title"))
    formats = shaper.formats()
    ws.append(shaper.headers())
    for page in pages:
        for r in page:
            cells: list[Any] = []
            for fmt, value in zip(formats, shaper.row(r), strict=True):
                if fmt is not None and value != "":
                    cell = WriteOnlyCell(ws, value=value)
                    cell.number_format = fmt
                    cells.append(cell)
                else:
                    cells.append(defuse(value))
            ws.append(cells)
        on_page(len(page))
    wb.save(tmp)


def export_customers(crm: Crm, actor: Actor, path: Path, fmt: str = "csv", *,
                     on_progress: Callable[[int], None] | None = None,
                     translate: Translate = translate) -> ExportReport:
    """Write the export (see the module docstring); `translate` gives headers and labels in
    the caller's language."""
    require(actor, Perm.DATA_EXPORT)
    if fmt not in FORMATS:
        raise ExportRefused("export.error.format", format=fmt, formats=", ".join(FORMATS))
    path = Path(path).expanduser()
    if not path.parent.is_dir():
        raise ExportRefused("export.error.no_dir", path=str(path.parent))
    protected = safe_files.protected_for(crm)  # never the live database, its WAL or the key
    path = safe_files.check_output(path, protected)
    shaper = _Shaper(crm, translate, crm.tz, typed=fmt == "xlsx",
                     custom=custom_fields(crm, "customer", include_retired=True))
    count = 0

    def on_page(rows: int) -> None:
        nonlocal count
        count += rows
        if on_progress:
            on_progress(count)

    # names and addresses are PII: a new 0600 temp file, renamed into place after the audit
    with safe_files.atomic_path(path, protected) as tmp:
        if fmt == "csv":
            with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(shaper.headers())
                for page in _pages(crm, actor):
                    writer.writerows([defuse(c) for c in shaper.row(r)] for r in page)
                    on_page(len(page))
        else:
            _write_xlsx(tmp, shaper, _pages(crm, actor), on_page)
        with crm.db.write() as session:
            audit.record(crm.db, session, actor, "customer.export", "customer", "", None,
                         {"file": path.name, "format": fmt, "count": count, "masked": True})
    return ExportReport(path, fmt, count)

"""Writing one entity's records to CSV or XLSX: what `crm export customers|leads|
opportunities|tickets` share.

An export is a plan (`ExportPlan`): the built-in columns (field-registry declarations with
the SQL each is read from), the entity's custom fields (retired ones too while an exported
record holds a value: their stored values stay exportable), and a query already limited to
the actor's scope. The writer reads
it in keyset pages on the record id (never a whole table), shapes each cell (sensitive
values masked by the policy, choices by their label, money and dates typed in XLSX, times
in the display zone), defuses every text cell a spreadsheet would run as a formula, and
streams into a new 0600 temporary file that appears under its name only after the export's
audit event (with the row count) has committed.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Select

from crm_tui.domain.forms.definitions import custom_value_expr
from crm_tui.domain.forms.registry import CustomField, custom_fields
from crm_tui.domain.forms.values import display, plain_value
from crm_tui.domain.forms.values import mask as mask_custom
from crm_tui.domain.kernel import audit, safe_files
from crm_tui.domain.kernel.access_log import log_access
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import DomainError, translate
from crm_tui.domain.kernel.fields import FieldSpec, choice_label_key
from crm_tui.domain.kernel.masking import mask_by_policy
from crm_tui.domain.kernel.permissions import Perm, can, require
from crm_tui.domain.kernel.validation import from_fen

PAGE_ROWS = 1000
FORMATS = ("csv", "xlsx")
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
_NUMBER_FORMATS = {"money": MONEY_FORMAT, "date": DATE_FORMAT, "datetime": TIME_FORMAT}

Translate = Callable[..., str]
defuse = safe_files.defuse


class ExportRefused(DomainError):
    key = "export.error.refused"


@dataclass(frozen=True)
class ExportReport:
    path: Path
    format: str
    rows: int


@dataclass(frozen=True)
class Column:
    """One built-in column: its declaration (label, type, choices, sensitivity) and the SQL
    it is read from (`<key>_enc` for a sensitive value, `<key>_fen` for money)."""

    spec: FieldSpec
    source: Any


@dataclass(frozen=True)
class ExportPlan:
    entity: str
    """The custom-field entity and the audit event's (`<entity>.export`)."""
    sheet_key: str
    columns: tuple[Column, ...]
    query: Select[Any]
    """SELECT id, *column sources, custom … WHERE scope (no ORDER BY, no LIMIT)."""
    id_column: Any
    custom: tuple[CustomField, ...]
    audit_extra: dict[str, Any]


def column_of(model: Any, spec: FieldSpec, joined: dict[str, Any] | None = None) -> Column:
    """`spec` read from `model`'s table: a joined column when named in `joined`, else
    `<key>_enc` for a sensitive value, `<key>_fen` for money, or the column `<key>`."""
    if joined and spec.key in joined:
        return Column(spec, joined[spec.key])
    if spec.sensitive:
        return Column(spec, getattr(model, f"{spec.key}_enc"))
    if spec.type == "money":
        return Column(spec, getattr(model, f"{spec.key}_fen"))
    return Column(spec, getattr(model, spec.key))


def sees_people(actor: Actor) -> bool:
    """A role that sees customers gets personal columns (masked); admin gets none."""
    return can(actor, Perm.CUSTOMER_VIEW)


def visible(crm: Crm, actor: Actor, columns: tuple[Column, ...]) -> tuple[Column, ...]:
    """The columns this actor may export: without CUSTOMER_VIEW none of the policy's
    personal columns, and no free text (a note or a description can name anyone)."""
    if sees_people(actor):
        return columns
    withheld = set(crm.policy().masking.personal_fields)
    return tuple(c for c in columns
                 if c.spec.key not in withheld and c.spec.type != "long_text")


def custom_columns(crm: Crm, actor: Actor, entity: str) -> tuple[CustomField, ...]:
    """Every custom field of `entity`, retired ones too, for a role that sees people (a
    custom field may hold anything personal, so admin gets none)."""
    return custom_fields(crm, entity, include_retired=True) if sees_people(actor) else ()


def holding(crm: Crm, plan: ExportPlan) -> tuple[CustomField, ...]:
    """The plan's custom fields without the retired ones that no exported record holds a
    value for (a retired field is a column only while it still has data to hand over)."""
    custom = list(plan.query.selected_columns)[-1]
    kept = []
    for f in plan.custom:
        if f.retired:
            probe = plan.query.where(custom_value_expr(plan.entity, f.key, custom).is_not(None))
            with crm.db.read() as session:
                if session.execute(probe.limit(1)).first() is None:
                    continue
        kept.append(f)
    return tuple(kept)


def pages(crm: Crm, plan: ExportPlan) -> Iterator[list[Any]]:
    """The plan's rows in keyset pages on the id: (*column values, custom) per row."""
    base = plan.query.order_by(plan.id_column).limit(PAGE_ROWS)
    last = 0
    while True:
        with crm.db.read() as session:
            rows = session.execute(base.where(plan.id_column > last)).all()
        if not rows:
            return
        yield [r[1:] for r in rows]
        last = rows[-1][0]


@dataclass(frozen=True)
class Shaper:
    """Turns a row into typed cell values: masked, labelled, in the display zone."""

    crm: Crm
    translate: Translate
    tz: tzinfo
    typed: bool  # XLSX: numbers, dates and datetimes stay typed; CSV: ISO text
    custom: tuple[CustomField, ...] = ()
    """Custom fields, retired ones included: their stored values stay exportable."""
    fields: tuple[FieldSpec, ...] = ()
    """The built-in columns this actor may export."""
    masking: Any = None
    """The policy's masking rules (MaskingPolicy)."""

    def value(self, spec: FieldSpec, raw: Any) -> Any:
        if raw is None:
            return ""
        if spec.sensitive:
            return mask_by_policy(spec.key, self.crm.keys.decrypt(spec.key, raw), self.masking)
        if spec.key == "birth_date" and self._beside_id and isinstance(raw, date):
            # a masked ID and a full birth date together re-identify: keep the year only
            return "" if self.masking.birth_date_beside_id == "hide" else str(raw.year)
        label = choice_label_key(spec, raw)
        if label is not None:
            return self.translate(label)
        if spec.type == "money":
            amount = from_fen(raw)
            return amount if self.typed else str(amount)
        if isinstance(raw, bool):
            return display(raw)
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

    @property
    def _beside_id(self) -> bool:
        return self.masking is not None and any(s.key == "national_id" for s in self.fields)

    def row(self, row: Any) -> list[Any]:
        *builtin, custom = row
        cells = [self.value(s, v) for s, v in zip(self.fields, builtin, strict=True)]
        custom = custom or {}
        return cells + [self.custom_value(f, custom.get(f.key)) for f in self.custom]

    def headers(self) -> list[str]:
        zone = str(getattr(self.tz, "key", self.tz))
        lang = self.translate("lang.code")
        return [defuse(f"{self.translate(s.label_key)} ({zone})" if self.typed and s.type == "datetime"
                       else self.translate(s.label_key)) for s in self.fields] + [
            defuse(f.label(lang)) for f in self.custom]

    def formats(self) -> list[str | None]:
        return [_NUMBER_FORMATS.get(s.type) if not (s.key == "birth_date" and self._beside_id)
                else None for s in self.fields] + [
            DATE_FORMAT if f.spec.type == "date" else None for f in self.custom]


def _write_xlsx(tmp: Path, shaper: Shaper, sheet: str, rows: Iterator[list[Any]],
                on_page: Callable[[int], None]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet[:31])
    formats = shaper.formats()
    ws.append(shaper.headers())
    for page in rows:
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


def check_request(crm: Crm, actor: Actor, path: Path, fmt: str) -> tuple[Path, list[Any]]:
    """Refuse before reading anything: no export permission, an unknown format, a missing
    folder, or a path onto the live database, its WAL/SHM or the key. (path, protected)."""
    require(actor, Perm.DATA_EXPORT)
    if fmt not in FORMATS:
        raise ExportRefused("export.error.format", format=fmt, formats=", ".join(FORMATS))
    path = Path(path).expanduser()
    if not path.parent.is_dir():
        raise ExportRefused("export.error.no_dir", path=str(path.parent))
    protected = safe_files.protected_for(crm)
    return safe_files.check_output(path, protected), protected


PlanFor = Callable[[Crm, Actor], ExportPlan]


def write_export(crm: Crm, actor: Actor, plan_for: PlanFor, path: Path, fmt: str, *,
                 on_progress: Callable[[int], None] | None = None,
                 translate: Translate = translate) -> ExportReport:
    """Check the request, then write the rows of the actor's plan (see the module
    docstring) and audit `<entity>.export` with the row count; `translate` gives headers
    and labels in the caller's language."""
    path, protected = check_request(crm, actor, path, fmt)
    plan = plan_for(crm, actor)
    shaper = Shaper(crm, translate, crm.tz, typed=fmt == "xlsx", custom=holding(crm, plan),
                    fields=tuple(c.spec for c in plan.columns), masking=crm.policy().masking)
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
                for page in pages(crm, plan):
                    writer.writerows([defuse(c) for c in shaper.row(r)] for r in page)
                    on_page(len(page))
        else:
            _write_xlsx(tmp, shaper, translate(plan.sheet_key), pages(crm, plan), on_page)
        with crm.db.write() as session:
            audit.record(crm.db, session, actor, f"{plan.entity}.export", plan.entity, "", None,
                         {"file": path.name, "format": fmt, "count": count, "masked": True,
                          **plan.audit_extra})
            log_access(crm.db, actor, "export", count=count, session=session)
    return ExportReport(path, fmt, count)

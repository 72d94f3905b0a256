"""A report's result as JSON, CSV or XLSX.

JSON is for machines: codes, not labels; money as a decimal string in yuan; a rate as a
fraction (null when nothing was there to count); dates in ISO 8601. CSV and XLSX are for
people: headers and choices in the reader's language. XLSX cells carry real types (counts as
numbers, amounts as numbers with a money format, days and months as dates, rates as percents),
and every text cell a spreadsheet would run as a formula (`= + - @`) is defused
(`safe_files.defuse`). Files are written 0600 and atomically through `safe_files`, never onto
the live database or the key, and each file written is audited.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from crm_tui.domain.data_io.exporter import DATE_FORMAT, MONEY_FORMAT
from crm_tui.domain.kernel import audit, safe_files
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import ValidationFailed, translate
from crm_tui.domain.reporting.report_definitions import problem
from crm_tui.domain.reporting.reports import ReportResult

FORMATS = ("table", "csv", "xlsx", "json")
FILE_FORMATS = ("csv", "xlsx", "json")
_XLSX_FORMATS = {"money": MONEY_FORMAT, "date": DATE_FORMAT, "month": "yyyy-mm", "rate": "0.0%",
                 "number": "#,##0.00", "int": "#,##0"}

Translate = Callable[..., str]


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def as_json(result: ReportResult, translate: Translate = translate) -> dict[str, Any]:
    d = result.definition
    return {
        "report": d.name, "title": d.title(translate("lang.code")), "entity": d.entity,
        "generated_at": result.generated_at.isoformat(timespec="seconds"),
        "scope": result.scope, "truncated": result.truncated,
        "columns": [{"key": c.key, "label": c.label(translate), "role": c.role, "kind": c.kind}
                    for c in result.columns],
        "rows": [{c.key: _json_value(v) for c, v in zip(result.columns, row, strict=True)}
                 for row in result.rows],
    }


def headers(result: ReportResult, translate: Translate = translate) -> list[str]:
    return [safe_files.defuse(c.label(translate)) for c in result.columns]


def text_rows(result: ReportResult, translate: Translate = translate) -> list[list[str]]:
    """Every cell as a person reads it (labels, thousands, percents), defused."""
    return [[safe_files.defuse(c.cell(v, translate)) for c, v in zip(result.columns, row, strict=True)]
            for row in result.rows]


def _csv_cell(col: Any, value: Any, translate: Translate) -> Any:
    """CSV keeps numbers plain (no thousands separator) so a spreadsheet reads them back."""
    if value is None:
        return ""
    if col.kind in ("money", "int", "number", "rate", "year"):
        return str(value)
    return safe_files.defuse(col.cell(value, translate))


def csv_text(result: ReportResult, translate: Translate = translate) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(headers(result, translate))
    for row in result.rows:
        writer.writerow([_csv_cell(c, v, translate) for c, v in zip(result.columns, row, strict=True)])
    return buf.getvalue()


def _xlsx_cell(ws: Any, col: Any, value: Any, translate: Translate) -> Any:
    from openpyxl.cell import WriteOnlyCell

    if value is None:
        return None
    if col.kind in ("text", "choice", "bool", "quarter"):
        return safe_files.defuse(col.cell(value, translate))
    if col.kind in ("date", "month") and not isinstance(value, date):
        return safe_files.defuse(str(value))
    cell = WriteOnlyCell(ws, value=value)
    fmt = _XLSX_FORMATS.get(col.kind)
    if fmt:
        cell.number_format = fmt
    return cell


def _sheet_title(text: str) -> str:
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in text).strip("' ")
    return (cleaned or "report")[:31]


def _write_xlsx(tmp: Path, result: ReportResult, translate: Translate) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    d = result.definition
    ws = wb.create_sheet(_sheet_title(d.title(translate("lang.code"))))
    ws.append(headers(result, translate))
    for row in result.rows:
        ws.append([_xlsx_cell(ws, c, v, translate) for c, v in zip(result.columns, row, strict=True)])
    about = wb.create_sheet("about")
    for key, value in (("report", d.name), ("title", d.title(translate("lang.code"))),
                       ("entity", d.entity), ("scope", json.dumps(result.scope, ensure_ascii=False)),
                       ("generated_at", result.generated_at.isoformat(timespec="seconds")),
                       ("truncated", str(result.truncated).lower())):
        about.append([key, safe_files.defuse(value)])
    wb.save(tmp)


def write_report(crm: Crm, actor: Actor, result: ReportResult, path: Path, fmt: str,
                 translate: Translate = translate) -> Path:
    """Write the result to `path` (0600, atomic) and audit it; returns the path written."""
    if fmt not in FILE_FORMATS:
        raise ValidationFailed([problem("format", "reports.error.format", format=fmt)])
    path = Path(path).expanduser()
    if not path.parent.is_dir():
        raise ValidationFailed([problem("out", "reports.error.no_dir", path=str(path.parent))])
    protected = safe_files.protected_for(crm)
    path = safe_files.check_output(path, protected)
    with safe_files.atomic_path(path, protected) as tmp:
        if fmt == "xlsx":
            _write_xlsx(tmp, result, translate)
        elif fmt == "csv":
            tmp.write_text(csv_text(result, translate), encoding="utf-8-sig")
        else:
            tmp.write_text(json.dumps(as_json(result, translate), ensure_ascii=False, indent=2) + "\n",
                           encoding="utf-8")
        with crm.db.write() as session:
            audit.record(crm.db, session, actor, "report.export", "saved_report",
                         result.definition.name, None,
                         {"file": path.name, "format": fmt, "rows": len(result.rows),
                          "scope": result.scope})
    return path

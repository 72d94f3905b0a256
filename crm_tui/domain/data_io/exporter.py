"""`crm export customers`: a CSV or XLSX of the customers the actor may export.

Sensitive values are exported masked (an export is not a reveal); cells that a spreadsheet
would run as a formula (`= + - @`, tab, CR) are defused with a leading apostrophe. Rows are
read in keyset pages and written as a stream; the file appears under its name only after the
export's audit event has committed.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.orm import aliased

from crm_tui.domain.kernel import audit, safe_files
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import DomainError
from crm_tui.domain.kernel.masking import MASKERS
from crm_tui.domain.kernel.permissions import Perm, Role, customer_scope, require
from crm_tui.domain.kernel.validation import from_fen
from crm_tui.i18n import t
from crm_tui.store.models import Branch, Customer, Staff

PAGE_ROWS = 1000
FORMATS = ("csv", "xlsx")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# (catalog key of the header, how to get the value from a row)
COLUMNS: tuple[str, ...] = (
    "export.col.id", "field.name", "field.kind", "field.id_type", "field.national_id",
    "field.phone", "field.bank_account", "field.email", "field.birth_date", "field.gender",
    "field.address", "field.occupation", "field.risk_level", "field.aum", "field.annual_income",
    "field.branch_code", "field.rm_username", "export.col.status", "export.col.created_at",
)


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


def _pages(crm: Crm, actor: Actor) -> Iterator[list[Any]]:
    rm = aliased(Staff)
    base = (
        select(Customer.id, Customer.name, Customer.kind, Customer.id_type, Customer.national_id_enc,
               Customer.phone_enc, Customer.bank_account_enc, Customer.email, Customer.birth_date,
               Customer.gender, Customer.address, Customer.occupation, Customer.risk_level,
               Customer.aum_fen, Customer.annual_income_fen, Branch.code, rm.username,
               Customer.status, Customer.created_at)
        .outerjoin(Branch, Branch.id == Customer.branch_id)
        .outerjoin(rm, rm.id == Customer.rm_id)
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


def _cells(crm: Crm, row: Any) -> list[Any]:
    keys = crm.keys
    tz = crm.tz
    return [
        row[0], row[1], t(f"customer_kind.{row[2]}"), row[3],
        MASKERS["national_id"](keys.decrypt("national_id", row[4])),
        MASKERS["phone"](keys.decrypt("phone", row[5])),
        MASKERS["bank_account"](keys.decrypt("bank_account", row[6])),
        row[7], row[8].isoformat() if row[8] else "", t(f"gender.{row[9]}") if row[9] else "",
        row[10], row[11], row[12] or "",
        str(from_fen(row[13])), str(from_fen(row[14])), row[15] or "", row[16] or "", row[17],
        row[18].astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if row[18] else "",
    ]


def export_customers(crm: Crm, actor: Actor, path: Path, fmt: str = "csv", *,
                     on_progress: Callable[[int], None] | None = None) -> ExportReport:
    require(actor, Perm.DATA_EXPORT)
    if fmt not in FORMATS:
        raise ExportRefused("export.error.format", format=fmt, formats=", ".join(FORMATS))
    path = Path(path).expanduser()
    if not path.parent.is_dir():
        raise ExportRefused("export.error.no_dir", path=str(path.parent))
    protected = safe_files.protected_for(crm)  # never the live database, its WAL or the key
    path = safe_files.check_output(path, protected)
    headers = [t(key) for key in COLUMNS]
    count = 0
    # names and addresses are PII: a new 0600 temp file, renamed into place after the audit
    with safe_files.atomic_path(path, protected) as tmp:
        if fmt == "csv":
            with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(headers)
                for page in _pages(crm, actor):
                    writer.writerows([defuse(c) for c in _cells(crm, r)] for r in page)
                    count += len(page)
                    if on_progress:
                        on_progress(count)
        else:
            from openpyxl import Workbook

            wb = Workbook(write_only=True)
            ws = wb.create_sheet(t("export.sheet_title"))
            ws.append(headers)
            for page in _pages(crm, actor):
                for r in page:
                    ws.append([defuse(c) for c in _cells(crm, r)])
                count += len(page)
                if on_progress:
                    on_progress(count)
            wb.save(tmp)
        with crm.db.write() as session:
            audit.record(crm.db, session, actor, "customer.export", "customer", "", None,
                         {"file": path.name, "format": fmt, "count": count, "masked": True})
    return ExportReport(path, fmt, count)

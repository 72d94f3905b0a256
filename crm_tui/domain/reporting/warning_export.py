"""Exporting an early-warning list to CSV or XLSX, under the exporter's rules: the mobile
masked by the policy (an export is not a reveal), every text cell defused (`= + - @`),
a new 0600 file renamed into place (never over the live database, its WAL or the key),
audited, and written to the access log as an export of that many customers. XLSX cells
are typed (AUM a number with a money format, score and points integers)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from crm_tui.domain.data_io.exporter import FORMATS, MONEY_FORMAT, ExportRefused
from crm_tui.domain.kernel import audit, safe_files
from crm_tui.domain.kernel.access_log import log_access
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import translate
from crm_tui.domain.kernel.masking import mask_by_policy
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.reporting.base import KpiFilter
from crm_tui.domain.reporting.churn_risk import FACTORS, ChurnRiskRow, as_of_utc
from crm_tui.domain.reporting.warning_lists import Row, check_list, every_row
from crm_tui.store.models import Customer

Translate = Callable[..., str]
CHUNK = 500


@dataclass(frozen=True)
class WarningExport:
    path: Path
    format: str
    rows: int


def _headers(kind: str, tr: Translate) -> list[str]:
    cols = ["customer_id", "customer", "phone", "rm", "aum"]
    cols += ["score", *FACTORS] if kind == "churn" else ["category"]
    return [tr(f"reporting.warning.col.{c}") for c in cols]


def factor_text(factor: Any, tr: Translate) -> str:
    """`35 · net outflow 40%`: the points the factor gave (0 when it did not fire) and why."""
    measured = tr(f"reporting.warning.factor.{factor.key}", **factor.params)
    return f"{factor.weight if factor.hit else 0} · {measured}"


def _cells(row: Row, phone: str, tr: Translate, typed: bool) -> list[Any]:
    aum: Any = Decimal(row.aum) if typed else row.aum
    cells: list[Any] = [row.customer_id, row.customer, phone, row.rm or "", aum]
    if isinstance(row, ChurnRiskRow):
        cells += [row.score, *(factor_text(f, tr) for f in row.factors)]
    else:
        cells.append(tr(f"tui.product_category.{row.category}"))
    return [safe_files.defuse(c) for c in cells]


def _phones(crm: Crm, ids: list[int]) -> dict[int, str]:
    """The mobiles of one chunk, decrypted only to be masked by the policy."""
    rules = crm.policy().masking
    with crm.db.read() as session:
        found = session.execute(select(Customer.id, Customer.phone_enc)
                                .where(Customer.id.in_(ids))).all()  # type: ignore[union-attr]
    return {cid: mask_by_policy("phone", crm.keys.decrypt("phone", enc), rules) if enc else ""
            for cid, enc in found}


def _chunks(crm: Crm, actor: Actor, kind: str, f: KpiFilter | None,
            as_of: datetime) -> Any:
    batch: list[Row] = []
    for row in every_row(crm, actor, kind, f, as_of=as_of):
        batch.append(row)
        if len(batch) == CHUNK:
            yield batch, _phones(crm, [r.customer_id for r in batch])
            batch = []
    if batch:
        yield batch, _phones(crm, [r.customer_id for r in batch])


def export_warnings(crm: Crm, actor: Actor, kind: str, path: Path, fmt: str | None = None, *,
                    f: KpiFilter | None = None, as_of: datetime | None = None,
                    translate: Translate = translate) -> WarningExport:
    """Write the whole list `kind` to `path` (format from `fmt` or the file's suffix)."""
    require(actor, Perm.CUSTOMER_VIEW)
    check_list(kind)
    path = Path(path).expanduser()
    fmt = (fmt or path.suffix.lstrip(".") or "csv").lower()
    if fmt not in FORMATS:
        raise ExportRefused("export.error.format", format=fmt, formats=", ".join(FORMATS))
    if not path.parent.is_dir():
        raise ExportRefused("export.error.no_dir", path=str(path.parent))
    protected = safe_files.protected_for(crm)
    path = safe_files.check_output(path, protected)
    at = as_of_utc(as_of)
    count = 0
    with safe_files.atomic_path(path, protected) as tmp:
        if fmt == "csv":
            with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(_headers(kind, translate))
                for batch, phones in _chunks(crm, actor, kind, f, at):
                    writer.writerows(_cells(r, phones.get(r.customer_id, ""), translate, False)
                                     for r in batch)
                    count += len(batch)
        else:
            count = _write_xlsx(tmp, crm, actor, kind, f, at, translate)
        with crm.db.write() as session:
            audit.record(crm.db, session, actor, "warning.export", "warning_list", kind, None,
                         {"file": path.name, "format": fmt, "count": count, "masked": True})
            log_access(crm.db, actor, "export", count=count, session=session)
    return WarningExport(path, fmt, count)


def _write_xlsx(tmp: Path, crm: Crm, actor: Actor, kind: str, f: KpiFilter | None,
                at: datetime, tr: Translate) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(tr(f"reporting.warning.list.{kind}")[:31])
    ws.append(_headers(kind, tr))
    count = 0
    for batch, phones in _chunks(crm, actor, kind, f, at):
        for r in batch:
            cells: list[Any] = _cells(r, phones.get(r.customer_id, ""), tr, True)
            aum = WriteOnlyCell(ws, value=cells[4])
            aum.number_format = MONEY_FORMAT
            cells[4] = aum
            ws.append(cells)
        count += len(batch)
    wb.save(tmp)
    return count

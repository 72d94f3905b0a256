"""`crm import leads FILE`: leads from CSV/XLSX, headers in Chinese or English through the
field registry (key, aliases, every language's label), the same row errors, rejects file
and exit codes as the customer import. Each lead goes through the same intake as the form
(sealing, linking to an existing customer, assignment, notification and task); a row that
fails is rolled back alone (a savepoint) and lands in the rejects file. An optional
`created_at` column loads history (its first-contact clock starts then)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from crm_tui.domain.data_io.import_outcome import ImportReport, Outcome, running
from crm_tui.domain.data_io.readers import ImportFileError, RowProblem, header_key, open_table
from crm_tui.domain.forms.files import custom_cells, custom_headers
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, ValidationFailed, catalog_labels
from crm_tui.domain.kernel.fields import clean, fields_of, header_map, normalise_header
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.sales import fields as _fields  # noqa: F401  (registers the lead fields)
from crm_tui.domain.sales.leads import intake
from crm_tui.store.types import utcnow

CHUNK = 500
REQUIRED = ("name", "source")


@dataclass
class LeadImportReport(ImportReport):
    assigned: int = 0


def _labels(key: str) -> list[str]:
    return list(catalog_labels(key))


def map_lead_headers(headers: list[str], custom: dict[str, str] | None = None) -> list[str | None]:
    """Header → lead field; `custom` adds the custom fields (`forms.files.custom_headers`)."""
    known = {**header_map("lead", _labels), **(custom or {})}
    out: list[str | None] = []
    seen: dict[str, str] = {}
    for col, raw in enumerate(headers, start=1):
        text = str(raw or "").strip()
        if not text:
            out.append(None)
            continue
        field = known.get(normalise_header(text)) or known.get(header_key(text))
        if field is None:
            raise ImportFileError("import.error.unknown_header", header=text, column=col,
                                  known=", ".join(s.key for s in fields_of("lead")))
        if field in seen:
            raise ImportFileError("import.error.duplicate_header", header=text, other=seen[field])
        seen[field] = text
        out.append(field)
    missing = [f for f in REQUIRED if f not in seen]
    if missing:
        raise ImportFileError("import.error.missing_header", fields=", ".join(missing))
    return out


def import_leads(crm: Crm, actor: Actor, path: Path, *, strict: bool = False,
                 dry_run: bool = False, rejects_path: Path | None = None,
                 on_error: Callable[[FieldError], None] | None = None) -> LeadImportReport:
    require(actor, Perm.DATA_IMPORT)
    started = time.perf_counter()
    custom = custom_headers(crm, "lead")
    table = open_table(Path(path), lambda headers: map_lead_headers(headers, custom))
    report = LeadImportReport(Path(path).name, table.encoding, dry_run=dry_run)
    store = not dry_run and not strict
    with running(crm, Path(path), table.headers, report, rejects_path, on_error,
                 started) as outcome:
        rows = list(_cleaned(table, crm, set(custom.values())))  # (number, cells, values | None, errors)
        for _number, cells, _values, errors in rows:
            report.rows += 1
            if errors:
                outcome.reject(cells, errors)
        if strict and not dry_run and report.rejected == 0:
            store = True
        elif strict and report.rejected:
            report.strict_refused = not dry_run
        if store:
            good = [(n, c, v) for n, c, v, e in rows if not e]
            for start in range(0, len(good), CHUNK):
                _store_chunk(crm, actor, good[start:start + CHUNK], outcome)
    return report


def _cleaned(table, crm: Crm, custom: set[str]):  # type: ignore[no-untyped-def]
    fields = table.fields
    for number, cells in table.rows():
        if isinstance(cells, RowProblem):  # a runaway quote, an over-long record
            yield number, cells, None, [FieldError("", cells.key, cells.params, number)]
            continue
        if len(cells) > len(fields):
            yield number, cells, None, [FieldError("", "import.error.cells",
                                                   {"cells": len(cells), "columns": len(fields)},
                                                   number)]
            continue
        raw = {f: cells[i] for i, f in enumerate(fields) if f is not None and i < len(cells)}
        values, errors = clean("lead", raw, only=[f for f in fields if f and f not in custom] +
                               [r for r in REQUIRED if r not in fields], row=number)
        values["custom"], custom_errors = custom_cells(crm, "lead", raw, number)
        yield number, cells, values, errors + custom_errors


def _store_chunk(crm: Crm, actor: Actor, chunk: list, outcome: Outcome) -> None:
    now = utcnow()
    failed: list[tuple[list, list[FieldError]]] = []
    report = outcome.report
    with crm.db.write() as session:
        for number, cells, values in chunk:
            try:
                with session.begin_nested():
                    lead = intake(crm, session, actor, values, now=now, row=number)
            except ValidationFailed as exc:
                failed.append((cells, [FieldError(e.field, e.key, e.params, number)
                                       for e in exc.errors]))
                continue
            report.stored += 1
            report.assigned += lead.owner_id is not None
        report.chunks += 1
    for cells, errors in failed:
        outcome.reject(cells, errors)

"""`crm import customers`: validate every row, store the good ones in whole chunks.

How it stays safe and fast:

* Every row goes through `customer_fields.clean_customer`, the same checks as the TUI form,
  plus branch/RM look-ups, and duplicates inside the file (named by their earlier row).
* Good rows are stored in chunks; each chunk is ONE transaction holding its rows (a Core
  executemany, not ORM objects), their rule tags and one `customer.import` audit event. A
  process killed mid-import leaves whole chunks only; running it again skips the national IDs
  already stored ("already imported", matched by blind index), so nothing is duplicated.
* Cleaning and encryption (the expensive part) run in worker processes on large files while
  this process inserts; only ciphertext and blind indexes ever reach the database.
* `strict` validates the whole file first and stores nothing unless every row is good;
  `dry_run` validates and stores nothing.

The per-row work (cleaning, encryption, worker processes) is in `import_rows`; the chunk
writer and the rejects file are in `import_store`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from crm_tui.domain.data_io.import_rows import RowContext, StaffRef, prepared_batches
from crm_tui.domain.data_io.import_store import IMPORT_CACHE_KIB, ChunkWriter, Rejects
from crm_tui.domain.data_io.readers import Mapper, TableFile, header_key, map_headers, open_table
from crm_tui.domain.forms.registry import custom_fields
from crm_tui.domain.kernel import safe_files
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, ValidationFailed
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.store.models import Branch, Customer, Staff

__all__ = ["IMPORT_CACHE_KIB", "ImportOptions", "ImportReport", "Rejects", "count_customers",
           "default_rejects_path", "import_customers"]

CHUNK_ROWS = 2000
LARGE_CHUNK_ROWS = 10_000  # big files: fewer commits rewrite far fewer index pages (measured ~2x)
LARGE_FILE_ROWS = 50_000
PARALLEL_FROM_ROWS = 20_000  # below this, starting worker processes costs more than it saves


@dataclass(frozen=True)
class ImportOptions:
    strict: bool = False
    dry_run: bool = False
    rejects_path: Path | None = None  # None: `<file>.rejects.csv`
    default_branch: str | None = None
    default_rm: str | None = None
    chunk_rows: int | None = None  # None: CHUNK_ROWS, or LARGE_CHUNK_ROWS on large files
    workers: int | None = None  # None: 2 on large files when there are cores to spare


@dataclass
class ImportReport:
    file: str
    encoding: str | None
    rows: int = 0
    stored: int = 0
    already_imported: int = 0
    rejected: int = 0
    chunks: int = 0
    rejects_path: Path | None = None
    elapsed: float = 0.0
    dry_run: bool = False
    strict_refused: bool = False

    @property
    def ok(self) -> bool:
        return self.rejected == 0


# -- the command -------------------------------------------------------------------------------


def _load_context(crm: Crm, table: TableFile, options: ImportOptions) -> RowContext:
    with crm.db.read() as session:
        branches = {code.upper(): bid for bid, code in session.execute(select(Branch.id, Branch.code))}
        staff = {u: StaffRef(i, b, r, a) for i, u, b, r, a in session.execute(
            select(Staff.id, Staff.username, Staff.branch_id, Staff.role, Staff.active))}
    errors = []
    if options.default_branch and options.default_branch.upper() not in branches:
        errors.append(FieldError("branch", "validation.unknown_branch",
                                 {"code": options.default_branch}))
    if options.default_rm and options.default_rm not in staff:
        errors.append(FieldError("rm_username", "validation.unknown_rm",
                                 {"username": options.default_rm}))
    if errors:
        raise ValidationFailed(errors)
    named = set(table.fields)
    custom = tuple(f for f in custom_fields(crm, "customer") if f.key in named)
    return RowContext(table.fields, crm.keys, branches, staff, options.default_branch,
                      options.default_rm, crm.db.is_sqlite,
                      today=datetime.now(crm.tz).date(), custom=custom)


def _workers(options: ImportOptions, estimated_rows: int) -> int:
    if options.workers is not None:
        return max(1, options.workers)
    if estimated_rows < PARALLEL_FROM_ROWS:
        return 1
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def customer_headers(crm: Crm) -> Mapper:
    """The customer header mapper, knowing the active custom fields by key and by label."""
    extra: dict[str, str] = {}
    for f in custom_fields(crm, "customer"):
        for name in (f.key, f.label_zh, f.label_en):
            extra[header_key(name)] = f.key
    return lambda headers: map_headers(headers, extra)


def default_rejects_path(path: Path) -> Path:
    return path.with_name(path.name + ".rejects.csv")


def import_customers(
    crm: Crm,
    actor: Actor,
    path: Path,
    options: ImportOptions = ImportOptions(),
    *,
    on_error: Callable[[FieldError], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import customers from a CSV/XLSX file as described in the module docstring."""
    import time

    require(actor, Perm.DATA_IMPORT)
    started = time.perf_counter()
    path = Path(path)
    table = open_table(path, customer_headers(crm))
    ctx = _load_context(crm, table, options)
    report = ImportReport(path.name, table.encoding, dry_run=options.dry_run)
    rejects = Rejects(options.rejects_path or default_rejects_path(path), table.headers,
                       safe_files.protected_for(crm, inputs=[path]))
    workers = _workers(options, table.estimated_rows)
    if options.chunk_rows is None:
        big = table.estimated_rows >= LARGE_FILE_ROWS
        options = replace(options, chunk_rows=LARGE_CHUNK_ROWS if big else CHUNK_ROWS)
    try:
        if options.strict and not options.dry_run:
            _run(crm, actor, table, ctx, options, report, rejects, workers, store=False,
                 on_error=on_error, on_progress=on_progress)
            if report.rejected:
                report.strict_refused = True
                return report
            table = open_table(path, customer_headers(crm))  # all good: read again and store
            report = ImportReport(path.name, table.encoding)
        _run(crm, actor, table, ctx, options, report, rejects, workers,
             store=not options.dry_run, on_error=on_error, on_progress=on_progress)
        return report
    finally:
        rejects.close()
        report.rejects_path = rejects.path if rejects.used else None
        report.elapsed = time.perf_counter() - started


def _run(crm: Crm, actor: Actor, table: TableFile, ctx: RowContext, options: ImportOptions,
         report: ImportReport, rejects: Rejects, workers: int, *, store: bool,
         on_error: Callable[[FieldError], None] | None,
         on_progress: Callable[[int, int], None] | None) -> None:
    writer = ChunkWriter(crm, actor, table.path.name)
    seen: dict[int, int] = {}  # first 64 bits of the blind index → row number
    for batch, prepared in prepared_batches(table, ctx, options.chunk_rows or CHUNK_ROWS, store,
                                             workers):
        cells_of = dict(batch)
        bad = list(prepared.bad)
        good: list[tuple[int, str, tuple[Any, ...]]] = []
        for item in prepared.good:
            key = int(item[1][:16], 16)
            earlier = seen.get(key)
            if earlier is not None:
                bad.append((item[0], [FieldError("national_id", "validation.duplicate_in_file",
                                                 {"row": earlier}, item[0])]))
                continue
            seen[key] = item[0]
            good.append(item)
        bad.sort(key=lambda b: b[0])
        for number, errors in bad:
            rejects.add(cells_of[number], errors)
            if on_error:
                for e in errors:
                    on_error(e)
        report.rows += len(batch)
        report.rejected += len(bad)
        if store:
            stored, existing = writer.store(good, batch[0][0], batch[-1][0], len(bad))
            report.stored += stored
            report.already_imported += existing
            report.chunks += 1
        elif good:
            report.already_imported += writer.count_existing([b for _, b, _ in good])
        if on_progress:
            on_progress(report.rows, table.estimated_rows)


def count_customers(crm: Crm) -> int:
    """For tests and the summary: how many customers the store holds."""
    with crm.db.read() as session:
        return session.scalar(select(func.count()).select_from(Customer)) or 0

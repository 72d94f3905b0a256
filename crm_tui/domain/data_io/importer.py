"""`crm import customers`: validate every row, store the good ones in whole chunks.

The pieces: `customer_rows` turns one row into an insertable, sealed-ready row or a row error
(no exception type escapes a row); `customer_store` writes a chunk per transaction with its
rule tags, seals and audit event; `import_outcome` keeps the report and the rejects file.
This module runs them over a file:

* cleaning and encryption (the expensive part) run in worker processes on large files while
  this process inserts; only ciphertext and blind indexes ever reach the database;
* duplicates inside the file are named by their earlier row;
* if the database refuses a whole chunk, its rows are stored one by one and only the
  refused ones are rejected, with the database's reason;
* `strict` validates the whole file first and stores nothing unless every row is good;
  `dry_run` validates and stores nothing.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from crm_tui.domain.data_io import customer_rows
from crm_tui.domain.data_io.customer_rows import GoodRow, Prepared, RowContext, StaffRow
from crm_tui.domain.data_io.customer_store import IMPORT_CACHE_KIB, ChunkWriter
from crm_tui.domain.data_io.import_outcome import ImportReport, Outcome, running
from crm_tui.domain.data_io.readers import Mapper, TableFile, header_key, map_headers, open_table
from crm_tui.domain.forms.registry import custom_fields
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import Blocked, FieldError, ValidationFailed
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.store.models import Branch, Customer, Staff

__all__ = ["IMPORT_CACHE_KIB", "ImportOptions", "ImportReport", "count_customers",
           "customer_headers", "import_customers"]

CHUNK_ROWS = 2000
LARGE_CHUNK_ROWS = 10_000  # big files: fewer commits rewrite far fewer index pages (measured ~2x)
LARGE_FILE_ROWS = 50_000
PARALLEL_FROM_ROWS = 20_000  # below this, starting worker processes costs more than it saves
PART_ROWS = 2000  # rows a worker prepares at a time

Batch = list[tuple[int, list[Any]]]


@dataclass(frozen=True)
class ImportOptions:
    strict: bool = False
    dry_run: bool = False
    rejects_path: Path | None = None  # None: `<file>.rejects.csv`
    default_branch: str | None = None
    default_rm: str | None = None
    chunk_rows: int | None = None  # None: CHUNK_ROWS, or LARGE_CHUNK_ROWS on large files
    workers: int | None = None  # None: 2 on large files when there are cores to spare


def _batches(table: TableFile, size: int) -> Iterator[Batch]:
    batch: Batch = []
    for item in table.rows():
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _StartingPool:
    """Worker processes started in the background.

    Starting them (a forkserver that imports the domain, then two forks) takes a second or
    more, so the import does not wait for it: until the pool is up, chunks are prepared in
    this process. forkserver, not fork: the TUI and the SSH gateway hold threads (workers,
    pools), and a forked child inherits their locks mid-air; forkserver forks from a clean
    single-threaded server."""

    def __init__(self, workers: int, ctx: RowContext) -> None:
        self.pool: Any = None
        self._thread = threading.Thread(target=self._start, args=(workers, ctx),
                                        name="import-pool", daemon=True)
        self._thread.start()

    def _start(self, workers: int, ctx: RowContext) -> None:
        mp = multiprocessing.get_context("forkserver")
        mp.set_forkserver_preload([customer_rows.__name__])  # workers fork with it imported
        try:
            self.pool = mp.Pool(workers, initializer=customer_rows.init_background_worker,
                                initargs=(ctx,))
        except OSError:  # no processes to spare: the chunks are all prepared here
            self.pool = None

    def ready(self) -> Any:
        """The pool once it is up, else None."""
        return None if self._thread.is_alive() else self.pool

    def close(self) -> None:
        self._thread.join()
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()


def _prepared_batches(table: TableFile, ctx: RowContext, size: int, store: bool,
                      workers: int, writer: ChunkWriter) -> Iterator[tuple[Batch, Prepared]]:
    """Each raw batch with its prepared result, in file order; a bounded window in flight.

    A chunk goes to the workers in parts of at most PART_ROWS rows, so the first rows are
    ready to store after a part's work instead of a whole chunk's, and the two workers share
    a chunk instead of taking turns with whole ones. The first chunk is prepared and stored
    here (while the workers start); once it has shown the writer how its rows are sealed,
    the workers seal theirs too, under ids planned from the row's place in the file."""
    customer_rows.init_worker(ctx)
    if workers <= 1:
        for batch in _batches(table, size):
            yield batch, customer_rows.prepare(batch, store)
        return
    starting = _StartingPool(workers, ctx)
    next_planned: int | None = None  # the id the next dispatched row would take
    pending: deque[tuple[Batch, list[Any]]] = deque()

    def ready() -> tuple[Batch, Prepared]:
        done, parts = pending.popleft()
        good: list[GoodRow] = []
        bad: list[tuple[int, list[FieldError]]] = []
        for part in parts:
            result = part.get()
            good += result.good
            bad += result.bad
        return done, Prepared(good, bad)

    try:
        for number, batch in enumerate(_batches(table, size)):
            pool = starting.ready() if not pending else starting.pool
            if pool is None or number == 0:  # prepared and stored here while the pool starts
                yield batch, customer_rows.prepare(batch, store)
                continue
            if next_planned is None and store:  # all before this row is stored: plan from here
                next_planned = writer.next_id
            parts = []
            for i in range(0, len(batch), PART_ROWS):
                part = batch[i:i + PART_ROWS]
                plan = writer.plan(next_planned) if next_planned else None
                parts.append(pool.apply_async(customer_rows.prepare, (part, store, plan)))
                if next_planned:
                    next_planned += len(part)
            pending.append((batch, parts))
            if len(pending) > 2:
                yield ready()
        while pending:
            yield ready()
    finally:
        starting.close()


def _load_context(crm: Crm, table: TableFile, options: ImportOptions) -> RowContext:
    with crm.db.read() as session:
        branches = {code.upper(): bid for bid, code in session.execute(select(Branch.id, Branch.code))}
        staff = {u: StaffRow(i, b, r, a) for i, u, b, r, a in session.execute(
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
    require(actor, Perm.DATA_IMPORT)
    if len(crm.keys.keys) > 1 and not options.dry_run:
        # Mid-rotation some stored IDs are still indexed under the old key: "already
        # imported" would miss them and store those customers twice.
        raise Blocked("keys.error.rotation_unfinished")
    started = time.perf_counter()
    path = Path(path)
    table = open_table(path, customer_headers(crm))
    ctx = _load_context(crm, table, options)
    workers = _workers(options, table.estimated_rows)
    if options.chunk_rows is None:
        big = table.estimated_rows >= LARGE_FILE_ROWS
        options = replace(options, chunk_rows=LARGE_CHUNK_ROWS if big else CHUNK_ROWS)
    report = ImportReport(path.name, table.encoding, dry_run=options.dry_run)
    with running(crm, path, table.headers, report, options.rejects_path, on_error,
                 started) as outcome:
        if options.strict and not options.dry_run:
            _run(crm, actor, table, ctx, options, outcome, workers, store=False,
                 on_progress=on_progress)
            if outcome.report.rejected:
                outcome.report.strict_refused = True
                return outcome.report  # type: ignore[no-any-return]
            table = open_table(path, customer_headers(crm))  # every row is good: read it again and store it
            outcome.report = ImportReport(path.name, table.encoding)
        _run(crm, actor, table, ctx, options, outcome, workers, store=not options.dry_run,
             on_progress=on_progress)
    return outcome.report  # type: ignore[no-any-return]


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """An import allocates millions of small objects and frees them by reference counting;
    the cyclic collector would only walk them again and again (measured: ~5 % of the
    storing process's time). It is back on when the import ends, as it was before."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _run(crm: Crm, actor: Actor, table: TableFile, ctx: RowContext, options: ImportOptions,
         outcome: Outcome, workers: int, *, store: bool,
         on_progress: Callable[[int, int], None] | None) -> None:
    with _no_cyclic_gc():
        _run_chunks(crm, actor, table, ctx, options, outcome, workers, store=store,
                    on_progress=on_progress)


def _run_chunks(crm: Crm, actor: Actor, table: TableFile, ctx: RowContext,
                options: ImportOptions, outcome: Outcome, workers: int, *, store: bool,
                on_progress: Callable[[int, int], None] | None) -> None:
    writer = ChunkWriter(crm, actor, table.path.name)
    report = outcome.report
    seen: dict[int, int] = {}  # first 64 bits of the blind index → row number
    for batch, prepared in _prepared_batches(table, ctx, options.chunk_rows or CHUNK_ROWS, store,
                                             workers, writer):
        cells_of = dict(batch)
        bad = list(prepared.bad)
        good: list[GoodRow] = []
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
            outcome.reject(cells_of[number], errors)
        report.rows += len(batch)
        if store:
            stored, existing = _store_contained(writer, good, batch, len(bad), outcome)
            report.stored += stored
            report.already_imported += existing
            report.chunks += 1
        elif good:
            report.already_imported += writer.count_existing([g[1] for g in good])
        if on_progress:
            on_progress(report.rows, table.estimated_rows)


def _store_contained(writer: ChunkWriter, good: list[GoodRow], batch: Batch, rejected: int,
                     outcome: Outcome) -> tuple[int, int]:
    """Store a chunk; if the database refuses it as a whole, store row by row and reject only
    the rows it refuses (with the database's reason), so one value never stops the file."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return writer.store(good, batch[0][0], batch[-1][0], rejected)
    except (SQLAlchemyError, OverflowError, ValueError):
        pass
    cells_of = dict(batch)
    stored = existing = 0
    for item in good:
        try:
            s, e = writer.store([item], item[0], item[0], 0)
        except (SQLAlchemyError, OverflowError, ValueError) as exc:
            detail = str(getattr(exc, "orig", exc)).splitlines()[0][:160]
            outcome.reject(cells_of[item[0]], [FieldError("", "import.error.store_failed",
                                                          {"detail": detail}, item[0])])
            continue
        stored += s
        existing += e
    return stored, existing


def count_customers(crm: Crm) -> int:
    """For tests and the summary: how many customers the store holds."""
    with crm.db.read() as session:
        return session.scalar(select(func.count()).select_from(Customer)) or 0

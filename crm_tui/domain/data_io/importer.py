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

The rejects file holds the operator's own input (plaintext, as in the source file) plus the
reason; it is created with 0600 rights beside the source file.
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, insert, select

from crm_tui.domain.customers.fields import clean_customer, customer_row
from crm_tui.domain.customers.tags import evaluate_rule_tags
from crm_tui.domain.data_io.readers import (
    Mapper,
    RowProblem,
    TableFile,
    header_key,
    map_headers,
    open_table,
)
from crm_tui.domain.forms.registry import CustomField, custom_fields
from crm_tui.domain.kernel import audit, safe_files, seals
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, ValidationFailed, translate
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.validation import BadValue
from crm_tui.store.crypto import Keyring
from crm_tui.store.models import Branch, Customer, Staff
from crm_tui.store.types import utcnow

CHUNK_ROWS = 2000
LARGE_CHUNK_ROWS = 10_000  # big files: fewer commits rewrite far fewer index pages (measured ~2x)
LARGE_FILE_ROWS = 50_000
IMPORT_CACHE_KIB = 131_072  # SQLite page cache while importing: index pages stay hot across chunks
PARALLEL_FROM_ROWS = 20_000  # below this, starting worker processes costs more than it saves
BOOK_ROLES = ("rm", "supervisor", "branch_head")

CUSTOMER = Customer.__table__  # type: ignore[attr-defined]


def _value_columns() -> tuple[str, ...]:
    """The columns `customer_row` fills, in a fixed order; the timestamps are added per chunk."""
    from crm_tui.domain.customers.fields import CleanCustomer

    sample = customer_row(Keyring.generate(), CleanCustomer(name="x"), branch_id=None, rm_id=None)
    return tuple(c.name for c in CUSTOMER.columns if c.name in sample)


VALUE_COLUMNS = _value_columns()
INSERT_COLUMNS = (*VALUE_COLUMNS, "created_at", "updated_at")


def _column_limits() -> tuple[tuple[int, str, str, int], ...]:
    """(position, column, "int"|"str", limit) for every value that must fit its column: a
    value that does not is a row error, never a failed chunk ("bigint out of range")."""
    from sqlalchemy import BigInteger, Integer, String

    out = []
    for i, name in enumerate(VALUE_COLUMNS):
        col_type = CUSTOMER.c[name].type
        if isinstance(col_type, BigInteger):
            out.append((i, name, "int", 2**63 - 1))
        elif isinstance(col_type, Integer):
            out.append((i, name, "int", 2**31 - 1))
        elif isinstance(col_type, String) and col_type.length:
            out.append((i, name, "str", col_type.length))
    return tuple(out)


_LIMITS = _column_limits()
_FIELD_OF_COLUMN = {"aum_fen": "aum", "annual_income_fen": "annual_income",
                    "national_id_bidx": "national_id", "phone_bidx": "phone",
                    "phone_last4": "phone", "bank_account_bidx": "bank_account",
                    "name_pinyin": "name", "name_initials": "name"}


def _misfits(values: tuple[Any, ...], row: int) -> list[FieldError]:
    errors = []
    for i, name, kind, limit in _LIMITS:
        v = values[i]
        if v is None:
            continue
        if kind == "int" and isinstance(v, int) and not -limit - 1 <= v <= limit:
            errors.append(FieldError(_FIELD_OF_COLUMN.get(name, name), "import.error.too_big",
                                     {}, row))
        elif kind == "str" and isinstance(v, str) and len(v) > limit:
            errors.append(FieldError(_FIELD_OF_COLUMN.get(name, name), "import.error.too_long_value",
                                     {"limit": limit}, row))
    return errors


def _blame(raw: dict[str, Any], row: int, today: date, exc: BaseException) -> list[FieldError]:
    """An unexpected failure while cleaning a row, pinned to the first field whose value
    alone fails the same way; the row is rejected, the import goes on."""
    detail = f"{type(exc).__name__}: {str(exc)[:120]}"
    for name, value in raw.items():
        try:
            clean_customer({name: value}, row=row, today=today)
        except Exception:  # noqa: BLE001 - this is the search for the culprit
            return [FieldError(name, "import.error.row_failed", {"detail": detail}, row)]
    return [FieldError("", "import.error.row_failed", {"detail": detail}, row)]


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


@dataclass(frozen=True)
class _Staff:
    id: int
    branch_id: int | None
    role: str
    active: bool


@dataclass
class _Context:
    """What a worker needs to turn raw cells into an insertable row; pickled to each worker."""

    fields: list[str | None]
    keys: Keyring
    branches: dict[str, int]
    staff: dict[str, _Staff]
    default_branch: str | None
    default_rm: str | None
    sqlite: bool
    today: date = field(default_factory=date.today)
    custom: tuple[CustomField, ...] = ()
    """The active custom fields named by the file's headers, validated like the form's."""


@dataclass
class _Prepared:
    """One batch after cleaning: good rows (row, blind index, values) and bad rows."""

    good: list[tuple[int, str, tuple[Any, ...]]]
    bad: list[tuple[int, list[FieldError]]]


# -- the per-row work (runs in worker processes on large files) -------------------------------

_ctx: _Context | None = None
_ROW_VALUES = itemgetter(*VALUE_COLUMNS)


def _init_worker(ctx: _Context) -> None:
    global _ctx
    _ctx = ctx


def _owner(ctx: _Context, clean: Any, row: int) -> tuple[int | None, int | None, list[FieldError]]:
    """The branch id and RM id for a row, from its cells or the command's defaults."""
    errors: list[FieldError] = []
    rm_name = clean.rm_username or ctx.default_rm
    rm: _Staff | None = None
    if rm_name:
        rm = ctx.staff.get(rm_name)
        if rm is None:
            errors.append(FieldError("rm_username", "validation.unknown_rm", {"username": rm_name}, row))
        elif not rm.active or rm.role not in BOOK_ROLES:
            errors.append(FieldError("rm_username", "import.error.rm_not_eligible",
                                     {"username": rm_name}, row))
            rm = None
    code = clean.branch_code or ctx.default_branch
    branch_id: int | None = None
    if code:
        branch_id = ctx.branches.get(code.upper())
        if branch_id is None:
            errors.append(FieldError("branch_code", "validation.unknown_branch", {"code": code}, row))
    elif rm is not None and rm.branch_id is not None:
        branch_id = rm.branch_id
    else:
        errors.append(FieldError("branch_code", "import.error.branch_required", {}, row))
    if rm is not None and branch_id is not None and rm.branch_id not in (None, branch_id):
        errors.append(FieldError("rm_username", "import.error.rm_other_branch",
                                 {"username": rm_name, "code": code}, row))
    return branch_id, (rm.id if rm else None), errors


def _prepare_row(ctx: _Context, number: int, cells: list[Any], width: int,
                 store: bool) -> tuple[int, str, tuple[Any, ...]] | list[FieldError]:
    """One row: its insertable (row, blind index, values), or the errors naming its fields."""
    keys = ctx.keys
    if len(cells) > width and any(str(c).strip() for c in cells[width:]):
        return [FieldError("", "import.error.cells", {"cells": len(cells), "columns": width},
                           number)]
    raw = {f: c for f, c in zip(ctx.fields, cells, strict=False) if f is not None}
    clean, errors = clean_customer(raw, row=number, today=ctx.today)
    custom, custom_errors = _custom(ctx, raw, number)
    if clean is None or custom_errors:
        return errors + custom_errors
    branch_id, rm_id, owner_errors = _owner(ctx, clean, number)
    if owner_errors:
        return owner_errors
    if not store:
        return (number, keys.blind_index("national_id", clean.national_id) or "", ())
    row = customer_row(keys, clean, branch_id=branch_id, rm_id=rm_id)
    row["custom"] = custom
    values = _ROW_VALUES(row)
    misfits = _misfits(values, number)
    if misfits:
        return misfits
    if ctx.sqlite:
        values = _sqlite_values(values)
    return (number, row["national_id_bidx"] or "", values)


def _prepare(batch: list[tuple[int, list[Any]]], store: bool) -> _Prepared:
    """Clean a batch; with `store`, also encrypt it into insertable value tuples."""
    ctx = _ctx
    assert ctx is not None
    fields = ctx.fields
    width = len(fields)
    good: list[tuple[int, str, tuple[Any, ...]]] = []
    bad: list[tuple[int, list[FieldError]]] = []
    for number, cells in batch:
        if isinstance(cells, RowProblem):
            bad.append((number, [FieldError("", cells.key, cells.params, number)]))
            continue
        try:
            item = _prepare_row(ctx, number, cells, width, store)
        except Exception as exc:  # noqa: BLE001 - no exception type escapes a row
            raw = {f: c for f, c in zip(fields, cells, strict=False) if f is not None}
            bad.append((number, _blame(raw, number, ctx.today, exc)))
            continue
        if isinstance(item, list):
            bad.append((number, item))
        else:
            good.append(item)
    return _Prepared(good, bad)


_DATE_POSITIONS = tuple(i for i, c in enumerate(VALUE_COLUMNS) if c in ("birth_date", "risk_valid_until"))


_CUSTOM_POSITION = VALUE_COLUMNS.index("custom")


def _custom(ctx: _Context, raw: dict[str, Any], row: int) -> tuple[dict[str, Any], list[FieldError]]:
    """Stored custom values of one row (ciphertext for a sensitive field), or its errors."""
    out: dict[str, Any] = {}
    errors: list[FieldError] = []
    for f in ctx.custom:
        spec = f.spec
        try:
            value = spec.parse(raw.get(spec.key))
        except BadValue as exc:
            errors.append(FieldError(spec.key, exc.key, exc.params, row,
                                     (f.label_zh, f.label_en)))
            continue
        if value in (None, [], ""):
            continue
        if isinstance(value, Decimal | date):
            value = str(value) if isinstance(value, Decimal) else value.isoformat()
        if spec.sensitive:
            value = ctx.keys.encrypt(f"custom.customer.{spec.key}", str(value))
        out[spec.key] = value
    return out, errors


def _sqlite_values(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """Bind dates as SQLAlchemy's SQLite dialect stores them (ISO text), and the custom
    values as its JSON text, for the raw insert."""
    out = list(values)
    for i in _DATE_POSITIONS:
        if out[i] is not None:
            out[i] = out[i].isoformat()
    out[_CUSTOM_POSITION] = json.dumps(out[_CUSTOM_POSITION], ensure_ascii=False)
    return tuple(out)


# -- running batches in this process or in a pool ---------------------------------------------


def _batches(table: TableFile, size: int) -> Iterator[list[tuple[int, list[Any]]]]:
    batch: list[tuple[int, list[Any]]] = []
    for item in table.rows():
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _prepared_batches(table: TableFile, ctx: _Context, size: int, store: bool,
                      workers: int) -> Iterator[tuple[list[tuple[int, list[Any]]], _Prepared]]:
    """Each raw batch with its prepared result, in file order; a bounded window in flight."""
    if workers <= 1:
        _init_worker(ctx)
        for batch in _batches(table, size):
            yield batch, _prepare(batch, store)
        return
    # Not fork: the TUI and the SSH gateway hold threads (workers, pools), and a forked child
    # inherits their locks mid-air. forkserver forks from a clean single-threaded server.
    mp = multiprocessing.get_context("forkserver")
    mp.set_forkserver_preload([__name__])  # workers fork with this module already imported
    with mp.Pool(workers, initializer=_init_worker, initargs=(ctx,)) as pool:
        pending: deque[tuple[list[tuple[int, list[Any]]], Any]] = deque()
        for batch in _batches(table, size):
            pending.append((batch, pool.apply_async(_prepare, (batch, store))))
            if len(pending) > workers * 2:
                done, result = pending.popleft()
                yield done, result.get()
        while pending:
            done, result = pending.popleft()
            yield done, result.get()


# -- storing a chunk ---------------------------------------------------------------------------


class _ChunkWriter:
    """Stores one chunk per transaction: rows, rule tags, one audit event."""

    def __init__(self, crm: Crm, actor: Actor, file_name: str) -> None:
        self.crm = crm
        self.actor = actor
        self.file_name = file_name
        self.policy = crm.policy()
        self.sqlite_insert = (f"INSERT INTO customer ({', '.join(INSERT_COLUMNS)}) "
                              f"VALUES ({', '.join('?' for _ in INSERT_COLUMNS)})")

    def _existing(self, conn: Any, bidxs: list[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(bidxs), 900):
            part = bidxs[i:i + 900]
            found.update(conn.execute(
                select(CUSTOMER.c.national_id_bidx).where(CUSTOMER.c.national_id_bidx.in_(part))
            ).scalars())
        return found

    def store(self, rows: list[tuple[int, str, tuple[Any, ...]]], first_row: int, last_row: int,
              rejected: int) -> tuple[int, int]:
        """Insert the rows not already stored; returns (stored, already imported)."""
        db = self.crm.db
        with db.write() as session:
            conn = session.connection()
            existing = self._existing(conn, [b for _, b, _ in rows])
            fresh = [r for r in rows if r[1] not in existing]
            now = utcnow()
            ids: Sequence[int] = []
            if fresh:
                if db.is_sqlite:
                    conn.exec_driver_sql(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")
                    conn.exec_driver_sql("PRAGMA wal_autocheckpoint=10000")
                    stamp = now.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
                    start = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM customer").scalar() or 0
                    conn.exec_driver_sql(self.sqlite_insert, [v + (stamp, stamp) for _, _, v in fresh])
                    # BEGIN IMMEDIATE: we are the only writer, so the new rowids are consecutive;
                    # a range lets the tag rules scan an id range instead of binding 10,000 ids.
                    ids = range(start + 1, start + 1 + len(fresh))
                else:
                    params = [dict(zip(VALUE_COLUMNS, v, strict=True), created_at=now, updated_at=now)
                              for _, _, v in fresh]
                    ids = list(conn.execute(insert(CUSTOMER).returning(CUSTOMER.c.id), params).scalars())
                evaluate_rule_tags(session, self.policy, ids)
                seals.touch(session, "customer", ids)  # sealed at commit, same transaction
            audit.record(db, session, self.actor, "customer.import", "customer", "", None,
                         {"file": self.file_name, "rows": f"{first_row}-{last_row}",
                          "count": len(fresh), "already_imported": len(rows) - len(fresh),
                          "rejected": rejected})
        return len(fresh), len(rows) - len(fresh)

    def count_existing(self, bidxs: list[str]) -> int:
        with self.crm.db.read() as session:
            return len(self._existing(session.connection(), bidxs))


# -- rejects file ------------------------------------------------------------------------------


class _Rejects:
    """The rejected rows with their original cells and the reasons, created on first use.

    Written through `safe_files` (a new 0600 temp file renamed into place on close, never the
    database, the key or the file being read) with formula cells defused.
    """

    def __init__(self, path: Path, headers: list[str], protected: list[safe_files.Protected]) -> None:
        self.path = safe_files.check_output(path, protected)  # refused before any row is stored
        self.headers = headers
        self._protected = protected
        self._tmp: Path | None = None
        self._fh: IO[str] | None = None
        self._writer: Any = None

    def add(self, cells: list[Any], errors: list[FieldError]) -> None:
        if self._writer is None:
            self._tmp, fd = safe_files.reserve(self.path, self._protected)
            self._fh = open(fd, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
            self._writer = csv.writer(self._fh)
            # the rejects file is for the operator who ran the import: her language
            self._writer.writerow([safe_files.defuse(h) for h in
                                   [*self.headers, translate("import.rejects.error_column")]])
        if isinstance(cells, RowProblem):
            cells = [cells.text]
        row = ["" if c is None else (c.isoformat() if isinstance(c, date | datetime) else str(c))
               for c in cells]
        row += [""] * (len(self.headers) - len(row))
        self._writer.writerow([safe_files.defuse(c) for c in
                               [*row, " | ".join(e.line() for e in errors)]])

    @property
    def used(self) -> bool:
        return self._writer is not None

    def close(self) -> None:
        if self._fh is not None and self._tmp is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None
            safe_files.commit(self._tmp, self.path, self._protected)


# -- the command -------------------------------------------------------------------------------



Rejects = _Rejects  # the lead and ticket importers share the rejects file

def _load_context(crm: Crm, table: TableFile, options: ImportOptions) -> _Context:
    with crm.db.read() as session:
        branches = {code.upper(): bid for bid, code in session.execute(select(Branch.id, Branch.code))}
        staff = {u: _Staff(i, b, r, a) for i, u, b, r, a in session.execute(
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
    return _Context(table.fields, crm.keys, branches, staff, options.default_branch,
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
    rejects = _Rejects(options.rejects_path or default_rejects_path(path), table.headers,
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
            table = open_table(path, customer_headers(crm))  # every row is good: read it again and store it
            report = ImportReport(path.name, table.encoding)
        _run(crm, actor, table, ctx, options, report, rejects, workers,
             store=not options.dry_run, on_error=on_error, on_progress=on_progress)
        return report
    finally:
        rejects.close()
        report.rejects_path = rejects.path if rejects.used else None
        report.elapsed = time.perf_counter() - started


def _run(crm: Crm, actor: Actor, table: TableFile, ctx: _Context, options: ImportOptions,
         report: ImportReport, rejects: _Rejects, workers: int, *, store: bool,
         on_error: Callable[[FieldError], None] | None,
         on_progress: Callable[[int, int], None] | None) -> None:
    writer = _ChunkWriter(crm, actor, table.path.name)
    seen: dict[int, int] = {}  # first 64 bits of the blind index → row number
    for batch, prepared in _prepared_batches(table, ctx, options.chunk_rows or CHUNK_ROWS, store,
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
            stored, existing = _store_contained(writer, good, batch, bad, rejects, on_error,
                                                report)
            report.stored += stored
            report.already_imported += existing
            report.chunks += 1
        elif good:
            report.already_imported += writer.count_existing([b for _, b, _ in good])
        if on_progress:
            on_progress(report.rows, table.estimated_rows)


def _store_contained(writer: _ChunkWriter, good: list[tuple[int, str, tuple[Any, ...]]],
                     batch: list[tuple[int, list[Any]]], bad: list[tuple[int, list[FieldError]]],
                     rejects: _Rejects, on_error: Callable[[FieldError], None] | None,
                     report: ImportReport) -> tuple[int, int]:
    """Store a chunk; if the database refuses it as a whole, store row by row and reject only
    the rows it refuses (with the database's reason), so one value never stops the file."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return writer.store(good, batch[0][0], batch[-1][0], len(bad))
    except (SQLAlchemyError, OverflowError, ValueError):
        pass
    cells_of = dict(batch)
    stored = existing = 0
    for item in good:
        try:
            s, e = writer.store([item], item[0], item[0], 0)
        except (SQLAlchemyError, OverflowError, ValueError) as exc:
            detail = str(getattr(exc, "orig", exc)).splitlines()[0][:160]
            error = FieldError("", "import.error.store_failed", {"detail": detail}, item[0])
            rejects.add(cells_of[item[0]], [error])
            if on_error:
                on_error(error)
            report.rejected += 1
            continue
        stored += s
        existing += e
    return stored, existing


def count_customers(crm: Crm) -> int:
    """For tests and the summary: how many customers the store holds."""
    with crm.db.read() as session:
        return session.scalar(select(func.count()).select_from(Customer)) or 0

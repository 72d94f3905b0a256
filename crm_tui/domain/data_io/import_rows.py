"""The per-row work of `crm import customers`: raw cells → a cleaned, encrypted row ready
for a Core insert, or the row's field errors.

Runs in this process for small files and in forked worker processes for large ones
(`prepared_batches`), which is why everything a worker needs travels in one `RowContext`.
"""

from __future__ import annotations

import json
import multiprocessing
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import Any

from crm_tui.domain.customers.fields import clean_customer, customer_row
from crm_tui.domain.data_io.readers import TableFile
from crm_tui.domain.forms.registry import CustomField
from crm_tui.domain.kernel.errors import FieldError
from crm_tui.domain.kernel.validation import BadValue
from crm_tui.store.crypto import Keyring
from crm_tui.store.models import Customer

BOOK_ROLES = ("rm", "supervisor", "branch_head")

CUSTOMER = Customer.__table__  # type: ignore[attr-defined]


def _value_columns() -> tuple[str, ...]:
    """The columns `customer_row` fills, in a fixed order; the timestamps are added per chunk."""
    from crm_tui.domain.customers.fields import CleanCustomer

    sample = customer_row(Keyring.generate(), CleanCustomer(name="x"), branch_id=None, rm_id=None)
    return tuple(c.name for c in CUSTOMER.columns if c.name in sample)


VALUE_COLUMNS = _value_columns()
INSERT_COLUMNS = (*VALUE_COLUMNS, "created_at", "updated_at")


@dataclass(frozen=True)
class StaffRef:
    id: int
    branch_id: int | None
    role: str
    active: bool


@dataclass
class RowContext:
    """What a worker needs to turn raw cells into an insertable row; shared by fork."""

    fields: list[str | None]
    keys: Keyring
    branches: dict[str, int]
    staff: dict[str, StaffRef]
    default_branch: str | None
    default_rm: str | None
    sqlite: bool
    today: date = field(default_factory=date.today)
    custom: tuple[CustomField, ...] = ()
    """The active custom fields named by the file's headers, validated like the form's."""


@dataclass
class Prepared:
    """One batch after cleaning: good rows (row, blind index, values) and bad rows."""

    good: list[tuple[int, str, tuple[Any, ...]]]
    bad: list[tuple[int, list[FieldError]]]


# -- the per-row work (runs in worker processes on large files) -------------------------------

_ctx: RowContext | None = None
_ROW_VALUES = itemgetter(*VALUE_COLUMNS)


def init_worker(ctx: RowContext) -> None:
    global _ctx
    _ctx = ctx


def _owner(ctx: RowContext, clean: Any, row: int) -> tuple[int | None, int | None, list[FieldError]]:
    """The branch id and RM id for a row, from its cells or the command's defaults."""
    errors: list[FieldError] = []
    rm_name = clean.rm_username or ctx.default_rm
    rm: StaffRef | None = None
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


def _prepare(batch: list[tuple[int, list[Any]]], store: bool) -> Prepared:
    """Clean a batch; with `store`, also encrypt it into insertable value tuples."""
    ctx = _ctx
    assert ctx is not None
    fields = ctx.fields
    width = len(fields)
    keys = ctx.keys
    good: list[tuple[int, str, tuple[Any, ...]]] = []
    bad: list[tuple[int, list[FieldError]]] = []
    for number, cells in batch:
        if len(cells) > width and any(str(c).strip() for c in cells[width:]):
            bad.append((number, [FieldError("", "import.error.cells",
                                            {"cells": len(cells), "columns": width}, number)]))
            continue
        raw = {f: c for f, c in zip(fields, cells, strict=False) if f is not None}
        clean, errors = clean_customer(raw, row=number, today=ctx.today)
        custom, custom_errors = _custom(ctx, raw, number)
        if clean is None or custom_errors:
            bad.append((number, errors + custom_errors))
            continue
        branch_id, rm_id, owner_errors = _owner(ctx, clean, number)
        if owner_errors:
            bad.append((number, owner_errors))
            continue
        if not store:
            good.append((number, keys.blind_index("national_id", clean.national_id) or "", ()))
            continue
        row = customer_row(keys, clean, branch_id=branch_id, rm_id=rm_id)
        row["custom"] = custom
        values = _ROW_VALUES(row)
        if ctx.sqlite:
            values = _sqlite_values(values)
        good.append((number, row["national_id_bidx"] or "", values))
    return Prepared(good, bad)


_DATE_POSITIONS = tuple(i for i, c in enumerate(VALUE_COLUMNS) if c in ("birth_date", "risk_valid_until"))


_CUSTOM_POSITION = VALUE_COLUMNS.index("custom")


def _custom(ctx: RowContext, raw: dict[str, Any], row: int) -> tuple[dict[str, Any], list[FieldError]]:
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


def prepared_batches(table: TableFile, ctx: RowContext, size: int, store: bool,
                      workers: int) -> Iterator[tuple[list[tuple[int, list[Any]]], Prepared]]:
    """Each raw batch with its prepared result, in file order; a bounded window in flight."""
    if workers <= 1:
        init_worker(ctx)
        for batch in _batches(table, size):
            yield batch, _prepare(batch, store)
        return
    mp = multiprocessing.get_context("fork")
    with mp.Pool(workers, initializer=init_worker, initargs=(ctx,)) as pool:
        pending: deque[tuple[list[tuple[int, list[Any]]], Any]] = deque()
        for batch in _batches(table, size):
            pending.append((batch, pool.apply_async(_prepare, (batch, store))))
            if len(pending) > workers * 2:
                done, result = pending.popleft()
                yield done, result.get()
        while pending:
            done, result = pending.popleft()
            yield done, result.get()

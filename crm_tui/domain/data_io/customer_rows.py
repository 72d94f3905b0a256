"""One customer row of an import file: its cells cleaned, checked and encrypted into an
insertable row, or the errors naming its fields. Runs in worker processes on large files.

Every row goes through `customer_fields.clean_customer` (the TUI form's checks), the custom
fields' own parsers, the branch/RM look-ups and the column limits; anything else that goes
wrong in a row (any exception type) is pinned on a field and rejects that row only. A good
row also carries its seal members (`kernel.seals.mac_members`) for every column the worker
knows, so the process that stores it only adds the id and timestamps to seal it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import Any

from crm_tui.domain.customers.fields import CleanCustomer, clean_customer, customer_row
from crm_tui.domain.data_io.readers import RowProblem
from crm_tui.domain.forms.registry import CustomField
from crm_tui.domain.kernel.errors import FieldError
from crm_tui.domain.kernel.seals import mac_members
from crm_tui.domain.kernel.validation import BadValue
from crm_tui.store.crypto import Keyring
from crm_tui.store.models import Customer

BOOK_ROLES = ("rm", "supervisor", "branch_head")
CUSTOMER = Customer.__table__  # type: ignore[attr-defined]


def _value_columns() -> tuple[str, ...]:
    """The columns `customer_row` fills, in a fixed order; the timestamps are added per chunk."""
    sample = customer_row(Keyring.generate(), CleanCustomer(name="x"), branch_id=None, rm_id=None)
    return tuple(c.name for c in CUSTOMER.columns if c.name in sample)


VALUE_COLUMNS = _value_columns()
INSERT_COLUMNS = (*VALUE_COLUMNS, "created_at", "updated_at")
# Sealed columns whose values only the store knows: the id, the chunk's timestamps and the
# defaults of the columns the import does not fill (read back from the chunk's first row).
LATE_COLUMNS = tuple(sorted(c.name for c in CUSTOMER.columns if c.name not in VALUE_COLUMNS))


def _seal_layout() -> tuple[str | tuple[str, ...], ...]:
    """All columns in name order: a late column alone, the early ones between in groups."""
    layout: list[str | tuple[str, ...]] = []
    group: list[str] = []
    for name in sorted(c.name for c in CUSTOMER.columns):
        if name in LATE_COLUMNS:
            if group:
                layout.append(tuple(group))
                group = []
            layout.append(name)
        else:
            group.append(name)
    if group:
        layout.append(tuple(group))
    return tuple(layout)


SEAL_LAYOUT = _seal_layout()
_EARLY_GROUPS = tuple(item for item in SEAL_LAYOUT if isinstance(item, tuple))


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
class StaffRow:
    id: int
    branch_id: int | None
    role: str
    active: bool


@dataclass
class RowContext:
    """What a worker needs to turn raw cells into an insertable row; pickled to each worker."""

    fields: list[str | None]
    keys: Keyring
    branches: dict[str, int]
    staff: dict[str, StaffRow]
    default_branch: str | None
    default_rm: str | None
    sqlite: bool
    today: date = field(default_factory=date.today)
    custom: tuple[CustomField, ...] = ()
    """The active custom fields named by the file's headers, validated like the form's."""


GoodRow = tuple[int, str, tuple[Any, ...], tuple[str, ...]]
"""(row number, national-ID blind index, insert values, seal members of each early group)."""


@dataclass
class Prepared:
    """One batch after cleaning: good rows and bad rows (row number, errors)."""

    good: list[GoodRow]
    bad: list[tuple[int, list[FieldError]]]


_ctx: RowContext | None = None
_ROW_VALUES = itemgetter(*VALUE_COLUMNS)
_DATE_POSITIONS = tuple(i for i, c in enumerate(VALUE_COLUMNS) if c in ("birth_date", "risk_valid_until"))
_CUSTOM_POSITION = VALUE_COLUMNS.index("custom")


def init_worker(ctx: RowContext) -> None:
    global _ctx
    _ctx = ctx


def init_background_worker(ctx: RowContext) -> None:
    """A pool worker: it yields the CPU to the process that stores (and holds the write
    lock), which is what the import waits on; the workers have time to spare."""
    import os
    try:
        os.nice(5)
    except OSError:
        pass
    init_worker(ctx)


def _owner(ctx: RowContext, clean: Any, row: int) -> tuple[int | None, int | None, list[FieldError]]:
    """The branch id and RM id for a row, from its cells or the command's defaults."""
    errors: list[FieldError] = []
    rm_name = clean.rm_username or ctx.default_rm
    rm: StaffRow | None = None
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


def _seal_members(row: dict[str, Any]) -> tuple[str, ...]:
    return tuple(mac_members({c: row[c] for c in group}) for group in _EARLY_GROUPS)


def prepare_row(ctx: RowContext, number: int, cells: list[Any], width: int,
                store: bool) -> GoodRow | list[FieldError]:
    """One row: its insertable values with blind index and seal members, or its errors."""
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
        return (number, keys.blind_index("national_id", clean.national_id) or "", (), ())
    row = customer_row(keys, clean, branch_id=branch_id, rm_id=rm_id)
    row["custom"] = custom
    values = _ROW_VALUES(row)
    misfits = _misfits(values, number)
    if misfits:
        return misfits
    members = _seal_members(row)
    if ctx.sqlite:
        values = _sqlite_values(values)
    return (number, row["national_id_bidx"] or "", values, members)


def prepare(batch: list[tuple[int, list[Any]]], store: bool) -> Prepared:
    """Clean a batch; with `store`, also encrypt it into insertable value tuples."""
    ctx = _ctx
    assert ctx is not None
    fields = ctx.fields
    width = len(fields)
    good: list[GoodRow] = []
    bad: list[tuple[int, list[FieldError]]] = []
    for number, cells in batch:
        if isinstance(cells, RowProblem):
            bad.append((number, [FieldError("", cells.key, cells.params, number)]))
            continue
        try:
            item = prepare_row(ctx, number, cells, width, store)
        except Exception as exc:  # noqa: BLE001 - no exception type escapes a row
            raw = {f: c for f, c in zip(fields, cells, strict=False) if f is not None}
            bad.append((number, _blame(raw, number, ctx.today, exc)))
            continue
        if isinstance(item, list):
            bad.append((number, item))
        else:
            good.append(item)
    return Prepared(good, bad)

"""`crm export customers`: a CSV or XLSX of the customers the actor may export.

The columns are the customer field registry's export columns, headed by their labels in the
user's language; choice values (ID type, status, ...) are shown by their labels too.
Sensitive values are exported masked (an export is not a reveal). XLSX cells carry real
types: amounts are numbers with a money format, dates are dates, times are shown in the
display zone (named in the header); CSV keeps ISO 8601 (times with their offset). Every text
cell that a spreadsheet would run as a formula (`= + - @`, tab, CR) is defused with a leading
apostrophe. Rows are read in keyset pages and written as a stream; the file appears under
its name only after the export's audit event has committed. The writing is
`export_file`'s, shared with the lead, opportunity and ticket exports (`record_export`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from crm_tui.domain.customers.fields import EXPORT_FIELDS
from crm_tui.domain.data_io.export_file import (  # noqa: F401  (names other areas import)
    DATE_FORMAT,
    FORMATS,
    MONEY_FORMAT,
    PAGE_ROWS,
    TIME_FORMAT,
    ExportPlan,
    ExportRefused,
    ExportReport,
    Translate,
    column_of,
    custom_columns,
    defuse,
    sees_people,
    visible,
    write_export,
)
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import translate
from crm_tui.domain.kernel.fields import FieldSpec
from crm_tui.domain.kernel.permissions import Role, customer_scope
from crm_tui.store.models import Branch, Customer, Staff

COLUMNS: tuple[str, ...] = tuple(s.label_key for s in EXPORT_FIELDS)
"""Catalog keys of the headers, in file order."""


def _scope(actor: Actor) -> Any:
    # An administrator exports the whole book for migration or archive, masked; everybody
    # else exports what their scope lets them see. A restricted record (PIPL) leaves both.
    if actor.role == Role.ADMIN:
        return Customer.restricted.is_(False)  # type: ignore[attr-defined]
    return customer_scope(actor)


_RM = aliased(Staff)
_JOINED = {"branch_code": Branch.code, "rm_username": _RM.username}


CUSTOMER_COLUMNS = tuple(column_of(Customer, s, _JOINED) for s in EXPORT_FIELDS)


def export_fields(crm: Crm, actor: Actor) -> tuple[FieldSpec, ...]:
    """The built-in columns for this actor: a role that sees no personal data (admin) gets
    none of the policy's personal columns."""
    return tuple(c.spec for c in visible(crm, actor, CUSTOMER_COLUMNS))


def customer_plan(crm: Crm, actor: Actor) -> ExportPlan:
    columns = visible(crm, actor, CUSTOMER_COLUMNS)
    query = (select(Customer.id, *(c.source for c in columns), Customer.custom)
             .outerjoin(Branch, Branch.id == Customer.branch_id)
             .outerjoin(_RM, _RM.id == Customer.rm_id)
             .where(_scope(actor)))
    return ExportPlan("customer", "export.sheet_title", columns, query, Customer.id,
                      custom_columns(crm, actor, "customer"),
                      {"personal_columns": sees_people(actor)})


def export_customers(crm: Crm, actor: Actor, path: Path, fmt: str = "csv", *,
                     on_progress: Callable[[int], None] | None = None,
                     translate: Translate = translate) -> ExportReport:
    """Write the export (see the module docstring); `translate` gives headers and labels in
    the caller's language."""
    return write_export(crm, actor, customer_plan, path, fmt,
                        on_progress=on_progress, translate=translate)

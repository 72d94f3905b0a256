"""A definition's conditions (filters, and what a rate counts) and time buckets, as SQL.

A value is read as the field's kind says: an amount in yuan becomes fen, a date on a
timestamp field means that day in the display zone, a choice must be one of the field's
choices. A value that does not fit is a `FieldError` naming its path in the definition.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, String, cast, func, literal, not_

from crm_tui.domain.kernel.errors import FieldError
from crm_tui.domain.kernel.messages import Msg
from crm_tui.domain.kernel.validation import BadValue, parse_amount, to_fen
from crm_tui.domain.reporting.report_definitions import Condition, problem
from crm_tui.domain.reporting.report_fields import BUCKETS, NUMERIC, ReportField, SqlCtx

ORDERED = NUMERIC | {"date", "datetime"}
"""Kinds that compare with <, >, between and last_days."""
_TRUE = {"true", "yes", "y", "1", "是"}
_FALSE = {"false", "no", "n", "0", "否"}


class Bad(Exception):
    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key, self.params = key, params


def _text(value: Any) -> str:
    if isinstance(value, bool | dict | list) or value is None:
        raise Bad("reports.error.value_text")
    return str(value).strip()


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise Bad("reports.error.value_date", value=str(value)[:40]) from None


def read_value(f: ReportField, value: Any, ctx: SqlCtx) -> Any:
    """One comparison value for `f`, in the form the SQL expression holds."""
    kind = f.kind
    if kind == "bool":
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in _TRUE | _FALSE:
            return word in _TRUE
        raise Bad("reports.error.value_bool", value=str(value)[:40])
    if kind == "choice":
        text = _text(value)
        if f.choices and text not in f.choices:
            raise Bad("reports.error.value_choice", value=text, choices=", ".join(f.choices))
        return text
    if kind == "text":
        return _text(value)
    if kind == "money":
        try:
            return to_fen(parse_amount(str(value), allow_zero=True))
        except BadValue:
            raise Bad("reports.error.value_number", value=str(value)[:40]) from None
    if kind in ("int", "decimal", "duration"):
        if isinstance(value, bool):
            raise Bad("reports.error.value_number", value=str(value))
        try:
            number = Decimal(str(value).strip())
        except ArithmeticError:
            raise Bad("reports.error.value_number", value=str(value)[:40]) from None
        if not number.is_finite():
            raise Bad("reports.error.value_number", value=str(value)[:40])
        return int(number) if kind == "int" and number == number.to_integral_value() else float(number)
    day = _day(value)
    if kind == "date":
        return day.isoformat() if f.custom else day
    return datetime.combine(day, time(), tzinfo=ctx.tz).astimezone(UTC)  # datetime: that day


def _next(f: ReportField, bound: Any) -> Any:
    """The first value after a date bound (`between` and `lte` include the whole day)."""
    if isinstance(bound, datetime):
        return bound + timedelta(days=1)
    if isinstance(bound, date):
        return bound + timedelta(days=1)
    if isinstance(bound, str) and f.kind == "date":
        return (date.fromisoformat(bound) + timedelta(days=1)).isoformat()
    return None


def condition_sql(f: ReportField, c: Condition, ctx: SqlCtx, now: datetime) -> Any:
    """The SQL of one condition on `f`; raises Bad when the op or value does not fit."""
    expr, op, value = f.expr(ctx), c.op, c.value
    if op in ("is_null", "not_null"):
        return expr.is_(None) if op == "is_null" else expr.is_not(None)
    if value is None:
        raise Bad("reports.error.value_missing", op=op)
    if op in ("gt", "gte", "lt", "lte", "between", "last_days") and f.kind not in ORDERED:
        raise Bad("reports.error.op_kind", op=op, kind=Msg(f"reports.kind.{f.kind}"))
    if op == "contains":
        if f.kind != "text":
            raise Bad("reports.error.op_kind", op=op, kind=Msg(f"reports.kind.{f.kind}"))
        needle = _text(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return expr.like(f"%{needle}%", escape="\\")
    if op == "last_days":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 36500:
            raise Bad("reports.error.value_days", value=str(value)[:40])
        start = now - timedelta(days=value)
        if f.kind == "date":
            since = start.astimezone(ctx.tz).date()
            return expr >= (since.isoformat() if f.custom else since)
        if f.kind != "datetime":
            raise Bad("reports.error.op_kind", op=op, kind=Msg(f"reports.kind.{f.kind}"))
        return expr >= start
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise Bad("reports.error.value_list", op=op)
        values = [read_value(f, v, ctx) for v in value]
        return expr.in_(values) if op == "in" else not_(expr.in_(values))
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise Bad("reports.error.value_pair")
        low, high = (read_value(f, v, ctx) for v in value)
        after = _next(f, high)
        return (expr >= low) & (expr < after if after is not None else expr <= high)
    v = read_value(f, value, ctx)
    if op == "lte" and (after := _next(f, v)) is not None:
        return expr < after
    if op == "gt" and (after := _next(f, v)) is not None:
        return expr >= after
    if op == "eq" and f.kind == "datetime":
        return (expr >= v) & (expr < v + timedelta(days=1))
    return {"eq": lambda: expr == v, "ne": lambda: expr != v, "gt": lambda: expr > v,
            "gte": lambda: expr >= v, "lt": lambda: expr < v, "lte": lambda: expr <= v}[op]()


def conditions_sql(fields: dict[str, ReportField], conds: list[Condition], path: str,
                   ctx: SqlCtx, now: datetime, errors: list[FieldError],
                   used: Callable[[ReportField], None]) -> list[Any]:
    """Every condition at `path` as SQL; problems go into `errors` (one per condition)."""
    out = []
    for i, c in enumerate(conds):
        f = fields.get(c.field)
        if f is None:
            errors.append(problem(f"{path}[{i}].field", "reports.error.unknown_field",
                                  field=c.field))
            continue
        used(f)
        try:
            out.append(condition_sql(f, c, ctx, now))
        except Bad as bad:
            where = "op" if bad.key == "reports.error.op_kind" else "value"
            errors.append(problem(f"{path}[{i}].{where}", bad.key, **bad.params))
    return out


def bucket_sql(f: ReportField, bucket: str, ctx: SqlCtx) -> Any:
    """A time field cut to a day, month, quarter or year, in the display zone, as text
    ("2026-07-15", "2026-07", "2026-Q3", "2026")."""
    assert bucket in BUCKETS
    expr = f.expr(ctx)
    if f.custom:  # an ISO date string in the JSON column
        year, month = func.substr(expr, 1, 4, type_=String), func.substr(expr, 6, 2)
        if bucket == "quarter":
            q = (cast(month, Integer) + 2) // 3
            return year + literal("-Q") + cast(q, String)
        return func.substr(expr, 1, {"day": 10, "month": 7, "year": 4}[bucket], type_=String)
    if ctx.dialect == "sqlite":
        args = (expr, f"{ctx.offset_minutes:+d} minutes") if f.kind == "datetime" else (expr,)
        if bucket == "quarter":
            q = (cast(func.strftime("%m", *args), Integer) + 2) // 3
            return func.strftime("%Y", *args, type_=String) + literal("-Q") + cast(q, String)
        fmt = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}[bucket]
        return func.strftime(fmt, *args, type_=String)
    local = func.timezone(str(ctx.tz), expr) if f.kind == "datetime" else expr
    fmt = {"day": "YYYY-MM-DD", "month": "YYYY-MM", "quarter": 'YYYY-"Q"Q', "year": "YYYY"}[bucket]
    return func.to_char(local, fmt, type_=String)

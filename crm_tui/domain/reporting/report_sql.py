"""A report definition checked against the field catalog and turned into ONE grouped query.

The database does the work: a GROUP BY over the dimensions with COUNT/SUM aggregates, in the
actor's scope (the same customer scope as the KPIs; a restricted customer never counts), and
only the groups come back. Averages and rates come back as their two integers and are divided
in Python with Decimal, so an average of amounts is exact on both backends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Float, and_, case, cast, func, select

from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.errors import FieldError, ValidationFailed
from crm_tui.domain.kernel.messages import Msg
from crm_tui.domain.reporting.base import rate
from crm_tui.domain.reporting.report_conditions import bucket_sql, conditions_sql
from crm_tui.domain.reporting.report_definitions import MAX_ROWS, Measure, ReportDefinition, problem
from crm_tui.domain.reporting.report_fields import (
    BUCKETS,
    ENTITIES,
    GROUPABLE,
    NUMERIC,
    EntityDef,
    ReportField,
    SqlCtx,
    customer_join,
    entity_def,
)
from crm_tui.store.models import Customer

CENT = Decimal("0.01")
_OPS = {"eq": "=", "ne": "≠", "in": "∈", "not_in": "∉", "gt": ">", "gte": "≥", "lt": "<",
        "lte": "≤", "between": "∈", "is_null": "= ∅", "not_null": "≠ ∅", "contains": "∋",
        "last_days": "≥ −d"}


@dataclass(frozen=True)
class ResultColumn:
    """One column of a result: a dimension (a field, maybe cut to a time bucket) or a measure."""

    key: str
    role: str  # dimension | measure
    kind: str  # text choice bool int date month quarter year | int money number rate
    field: ReportField | None = None
    bucket: str | None = None
    measure: Measure | None = None

    def label(self, translate: Callable[..., str]) -> str:
        m = self.measure
        if m is None:
            assert self.field is not None
            text = self.field.label(translate)
            return f"{text} ({translate('reports.bucket.' + self.bucket)})" if self.bucket else text
        if m.label_zh or m.label_en:
            en = translate("lang.code") == "en"
            return (m.label_en if en else m.label_zh) or m.label_zh or m.label_en or self.key
        if m.fn == "count":
            return translate("reports.measure.count")
        if m.fn == "rate":
            what = " & ".join(f"{c.field} {_OPS[c.op]} {'' if c.value is None else c.value}".strip()
                              for c in m.when)
            return translate("reports.measure.rate", what=what)
        name = self.field.label(translate) if self.field else str(m.field)
        return translate(f"reports.measure.{m.fn}", field=name)

    def cell(self, value: Any, translate: Callable[..., str]) -> str:
        """The value as a person reads it (tables, CSV): labels, thousands, percents."""
        if value is None:
            return "—"
        if self.kind == "choice" and self.field and self.field.choice_prefix:
            key = f"{self.field.choice_prefix}.{value}"
            text = translate(key)
            return str(value) if text == key else text
        if self.kind == "bool":
            return translate("reports.yes" if value else "reports.no")
        if self.kind == "money":
            return f"{value:,.2f}"
        if self.kind == "rate":
            return f"{value:.1%}"
        if self.kind == "month" and isinstance(value, date):
            return value.strftime("%Y-%m")
        if isinstance(value, date):
            return value.isoformat()
        if self.kind == "number" and isinstance(value, Decimal):
            return f"{value:,f}"
        if self.kind == "number":
            return f"{value:,.2f}"
        return str(value)


@dataclass(frozen=True)
class Compiled:
    definition: ReportDefinition
    entity: EntityDef
    columns: tuple[ResultColumn, ...]
    query: Any
    readers: tuple[Callable[[tuple[Any, ...]], Any], ...]
    """One per column, each reading its value from the raw row."""
    limit: int


def _dimension_value(col: ResultColumn, raw: Any) -> Any:
    if raw is None:
        return None
    if col.kind == "bool":
        return raw in (True, 1, "1", "true", "t")
    if col.kind in ("int", "year"):
        return int(raw)
    if col.kind in ("date", "month") and isinstance(raw, str):
        try:
            return date.fromisoformat(raw if col.kind == "date" else raw + "-01")
        except ValueError:
            return raw
    return raw if isinstance(raw, date | int) else str(raw)


def _scaled(raw: Any, scale: int) -> Decimal:
    return Decimal(int(raw)) / scale


def _measure_reader(col: ResultColumn, at: int) -> tuple[Callable[[tuple[Any, ...]], Any], int]:
    """How to read the measure from the row starting at `at`, and how many SQL columns it has."""
    m, f = col.measure, col.field
    assert m is not None
    if m.fn == "count":
        return (lambda r: int(r[at] or 0)), 1
    if m.fn == "rate":
        return (lambda r: rate(r[at], r[at + 1])), 2
    assert f is not None
    if m.fn == "sum":
        def total(r: tuple[Any, ...]) -> Any:
            v = r[at]
            if v is None:
                return None
            if f.kind == "duration":
                return round(float(v), 2)
            if f.kind == "int":
                return int(v)
            value = _scaled(v, f.scale)
            return value.quantize(CENT) if f.kind == "money" else value.normalize()
        return total, 1

    def average(r: tuple[Any, ...]) -> Any:
        s, n = r[at], r[at + 1]
        if not n or s is None:
            return None
        if f.kind == "duration":
            return round(float(s) / n, 2)
        return (_scaled(s, f.scale) / n).quantize(CENT, ROUND_HALF_UP)
    return average, 2


def _kind(f: ReportField) -> Msg:
    return Msg(f"reports.kind.{f.kind}")


def _dimension(fields: dict[str, ReportField], text: str, i: int,
               errors: list[FieldError]) -> ResultColumn | None:
    name, _, bucket = text.partition(":")
    f = fields.get(name)
    path = f"dimensions[{i}]"
    if f is None:
        errors.append(problem(path, "reports.error.unknown_field", field=name))
        return None
    if f.kind not in GROUPABLE:
        errors.append(problem(path, "reports.error.not_groupable", field=name, kind=_kind(f)))
        return None
    if bucket and f.kind not in ("date", "datetime"):
        errors.append(problem(path, "reports.error.bucket_kind", field=name))
        return None
    if bucket and bucket not in BUCKETS:
        errors.append(problem(path, "reports.error.bucket", bucket=bucket, choices=", ".join(BUCKETS)))
        return None
    if f.kind == "datetime" and not bucket:
        bucket = "day"  # a timestamp is grouped by its day in the display zone
    kind = {"day": "date", "month": "month", "quarter": "quarter", "year": "year"}.get(bucket, f.kind)
    return ResultColumn(text, "dimension", kind, f, bucket or None)


def _measure(fields: dict[str, ReportField], m: Measure, i: int, key: str,
             errors: list[FieldError]) -> ResultColumn | None:
    path = f"measures[{i}]"
    if m.fn in ("count", "rate") and m.field is not None:
        errors.append(problem(f"{path}.field", "reports.error.field_unused", fn=m.fn))
    if m.fn != "rate" and (m.when or m.of):
        errors.append(problem(f"{path}.when", "reports.error.condition_rate_only", fn=m.fn))
    if m.fn == "rate" and not m.when:
        errors.append(problem(f"{path}.when", "reports.error.rate_condition"))
    if m.fn == "count":
        return ResultColumn(key, "measure", "int", None, measure=m)
    if m.fn == "rate":
        return ResultColumn(key, "measure", "rate", None, measure=m)
    if m.field is None:
        errors.append(problem(f"{path}.field", "reports.error.measure_field", fn=m.fn))
        return None
    f = fields.get(m.field)
    if f is None:
        errors.append(problem(f"{path}.field", "reports.error.unknown_field", field=m.field))
        return None
    if f.kind not in NUMERIC:
        errors.append(problem(f"{path}.field", "reports.error.not_numeric", field=m.field,
                              kind=_kind(f), fn=m.fn))
        return None
    kind = "money" if f.kind == "money" else ("int" if f.kind == "int" and m.fn == "sum" else "number")
    return ResultColumn(key, "measure", kind, f, measure=m)


def compile_report(fields: dict[str, ReportField], d: ReportDefinition, actor: Actor,
                   ctx: SqlCtx, now: datetime) -> Compiled:
    """Check every name in `d` against `fields` (every problem at once) and build the query."""
    errors: list[FieldError] = []
    if d.entity not in ENTITIES:
        raise ValidationFailed([problem("entity", "reports.error.entity", entity=d.entity,
                                        choices=", ".join(ENTITIES))])
    ent = entity_def(d.entity)
    joins: set[str] = set()

    def used(f: ReportField) -> None:
        joins.update(f.joins)

    columns: list[ResultColumn] = []
    for i, text in enumerate(d.dimensions):
        col = _dimension(fields, text, i, errors)
        if col is not None:
            used(col.field)  # type: ignore[arg-type]
            columns.append(col)
    for i, (m, key) in enumerate(zip(d.measures, d.measure_keys(), strict=True)):
        col = _measure(fields, m, i, key, errors)
        if col is not None:
            if col.field is not None:
                used(col.field)
            columns.append(col)
    keys = [*d.dimensions, *d.measure_keys()]
    for i, key in enumerate(d.measure_keys()):
        if keys.count(key) > 1:
            errors.append(problem(f"measures[{i}].key", "reports.error.duplicate_key", key=key))
    if len(set(d.dimensions)) != len(d.dimensions):
        errors.append(problem("dimensions", "reports.error.duplicate_dimension"))
    filters = conditions_sql(fields, d.filters, "filters", ctx, now, errors, used)
    rates = [(conditions_sql(fields, m.when, f"measures[{i}].when", ctx, now, errors, used),
              conditions_sql(fields, m.of, f"measures[{i}].of", ctx, now, errors, used))
             for i, m in enumerate(d.measures) if m.fn == "rate"]
    if d.sort and d.sort.removeprefix("-") not in keys:
        errors.append(problem("sort", "reports.error.sort", key=d.sort, choices=", ".join(keys)))
    if errors:
        raise ValidationFailed(errors)

    dims = [bucket_sql(c.field, c.bucket, ctx) if c.bucket else c.field.expr(ctx)  # type: ignore[union-attr]
            for c in columns if c.role == "dimension"]
    sql_cols: list[Any] = [e.label(f"d{i}") for i, e in enumerate(dims)]
    readers: list[Callable[[tuple[Any, ...]], Any]] = []
    order_by: dict[str, Any] = {}
    for i, c in enumerate(columns):
        if c.role == "dimension":
            readers.append(lambda r, i=i, c=c: _dimension_value(c, r[i]))
            order_by[c.key] = dims[i]
    rate_sql = iter(rates)
    for c in columns:
        if c.role != "measure":
            continue
        m, at = c.measure, len(sql_cols)
        assert m is not None
        if m.fn == "count":
            parts = [func.count()]
        elif m.fn == "rate":
            when, of = next(rate_sql)
            base = and_(*of) if of else None
            parts = [func.count(case((and_(*when, *of), 1))),
                     func.count(case((base, 1))) if base is not None else func.count()]
        else:
            value = c.field.summed(ctx)  # type: ignore[union-attr]
            parts = [func.sum(value)] + ([func.count(value)] if m.fn == "avg" else [])
        sql_cols += [p.label(f"m{at + j}") for j, p in enumerate(parts)]
        reader, _ = _measure_reader(c, at)
        readers.append(reader)
        order_by[c.key] = parts[0] if len(parts) == 1 else (
            cast(parts[0], Float) / func.nullif(parts[1], 0))

    q = select(*sql_cols).select_from(ent.model)
    cj = customer_join(ent)
    if cj is not None:
        q = q.outerjoin(Customer, cj) if ent.customer_join == "outer" else q.join(Customer, cj)
    for name, (target, on) in ent.joins.items():
        if name in joins:
            q = q.outerjoin(target, on)
    q = q.where(ent.scope(actor), *filters)
    if ent.base_where is not None:
        q = q.where(ent.base_where())
    if dims:
        q = q.group_by(*dims)
    order = []
    if d.sort:
        expr = order_by[d.sort.removeprefix("-")]
        order.append(expr.desc().nulls_last() if d.sort.startswith("-") else expr.asc().nulls_last())
    order += [e.asc().nulls_last() for e in dims]
    limit = min(d.limit or MAX_ROWS, MAX_ROWS)
    q = q.order_by(*order).limit(limit + 1)
    return Compiled(d, ent, tuple(columns), q, tuple(readers), limit)

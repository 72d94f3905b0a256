"""The report designer's form as plain values, and back: what the screen's inputs hold
(strings and choices) turned into a definition, so the rules stay here and the designer
screen only lays out widgets.

Conditions are typed as short text, one per `;`: `status = active; aum >= 1000000;
created_at last_days 90; type in complaint, inquiry; closed_at is null`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from crm_tui.domain.kernel.errors import FieldError, ValidationFailed
from crm_tui.domain.reporting.report_definitions import (
    Condition,
    ReportDefinition,
    parse_definition,
    problem,
)
from crm_tui.domain.reporting.report_fields import GROUPABLE, NUMERIC, ReportField

_OPS = (("not_null", "not null"), ("is_null", "is null"), ("not_in", "not in"),
        ("last_days", "last_days"), ("contains", "contains"), ("between", "between"),
        ("in", "in"), ("ne", "!="), ("gte", ">="), ("lte", "<="), ("eq", "="), ("gt", ">"),
        ("lt", "<"))
_WORD = {op: word for op, word in _OPS}
_PATTERN = re.compile(r"^\s*(?P<field>[\w.]+)\s*(?P<op>not null|is null|not in|last_days|contains|"
                      r"between|in|!=|>=|<=|=|>|<)\s*(?P<value>.*?)\s*$", re.IGNORECASE)


@dataclass
class MeasureRow:
    fn: str = ""
    field: str = ""
    when: str = ""
    """The rate's condition, as condition text."""


@dataclass
class ReportForm:
    name: str = ""
    title_zh: str = ""
    title_en: str = ""
    entity: str = "customers"
    dimensions: list[str] = field(default_factory=list)
    measures: list[MeasureRow] = field(default_factory=list)
    filters: str = ""
    sort: str = ""
    limit: str = ""
    chart: str = "bar"


def conditions_from_text(text: str, path: str) -> list[Condition]:
    """`field op value; …` as conditions; a part that does not read names its position."""
    out: list[Condition] = []
    errors: list[FieldError] = []
    parts = [p for p in text.split(";") if p.strip()]
    for i, part in enumerate(parts):
        m = _PATTERN.match(part)
        if m is None:
            errors.append(problem(f"{path}[{i}]", "reports.error.condition_text", text=part.strip()))
            continue
        op = next(o for o, w in _OPS if w == m["op"].lower())
        raw = m["value"]
        value: Any = None
        if op in ("in", "not_in", "between"):
            value = [v.strip() for v in re.split(r"[,，]", raw) if v.strip()]
        elif op == "last_days":
            value = int(raw) if raw.isdigit() else raw
        elif op not in ("is_null", "not_null"):
            value = raw or None
        out.append(Condition(field=m["field"], op=op, value=value))
    if errors:
        raise ValidationFailed(errors)
    return out


def conditions_to_text(conds: list[Condition]) -> str:
    def value(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, list):
            return ", ".join(str(x) for x in v)
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(v)
    return "; ".join(f"{c.field} {_WORD[c.op]} {value(c.value)}".strip() for c in conds)


def definition_from_form(form: ReportForm) -> ReportDefinition:
    """The form's values as a definition, or every problem (by the definition's key) at once."""
    errors: list[FieldError] = []
    measures: list[Any] = []
    for i, m in enumerate(form.measures):
        if not m.fn:
            continue
        entry: dict[str, Any] = {"fn": m.fn}
        if m.field and m.fn in ("sum", "avg"):
            entry["field"] = m.field
        if m.fn == "rate":
            try:
                entry["when"] = [c.model_dump() for c in conditions_from_text(m.when, f"measures[{i}].when")]
            except ValidationFailed as exc:
                errors += exc.errors
        measures.append(entry)
    try:
        filters = [c.model_dump() for c in conditions_from_text(form.filters, "filters")]
    except ValidationFailed as exc:
        errors += exc.errors
        filters = []
    data: dict[str, Any] = {
        "name": form.name.strip(), "title_zh": form.title_zh.strip(),
        "title_en": form.title_en.strip() or form.title_zh.strip(), "entity": form.entity,
        "dimensions": [d for d in form.dimensions if d], "measures": measures,
        "filters": filters, "chart": form.chart or "bar"}
    if form.sort.strip():
        data["sort"] = form.sort.strip()
    if form.limit.strip():
        data["limit"] = form.limit.strip()
    try:
        d = parse_definition(data)
    except ValidationFailed as exc:
        raise ValidationFailed(errors + exc.errors) from None
    if errors:
        raise ValidationFailed(errors)
    return d


def form_from_definition(d: ReportDefinition) -> ReportForm:
    return ReportForm(
        d.name, d.title_zh, d.title_en, d.entity, list(d.dimensions),
        [MeasureRow(m.fn, m.field or "", conditions_to_text(m.when)) for m in d.measures],
        conditions_to_text(d.filters), d.sort or "", str(d.limit or ""), d.chart)


def dimension_options(fields: dict[str, ReportField]) -> list[tuple[ReportField, str]]:
    """Every way to group: each groupable field, and each time field cut into buckets."""
    out: list[tuple[ReportField, str]] = []
    for f in fields.values():
        if f.kind in ("date", "datetime"):
            out += [(f, f"{f.key}:{b}") for b in ("month", "quarter", "year", "day")]
        elif f.kind in GROUPABLE:
            out.append((f, f.key))
    return out


def measure_fields(fields: dict[str, ReportField]) -> list[ReportField]:
    return [f for f in fields.values() if f.kind in NUMERIC]

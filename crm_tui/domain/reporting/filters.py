"""The filter bar's choices beyond branch and RM: the teams the actor may narrow to, and
custom customer fields marked filterable in the form engine's registry (`--field KEY=VALUE`),
each value parsed by the field's own rules and tested in SQL on `customer.custom` (the
expression the form engine indexes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select

from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, ValidationFailed
from crm_tui.domain.kernel.permissions import sees_every_branch
from crm_tui.store.models import Branch, Customer, Team


@dataclass(frozen=True)
class CustomFilter:
    """One `--field KEY=VALUE`, checked against the form engine's registry."""

    key: str
    type: str
    value: Any
    """The value as the field stores it (parsed by the field's own rules)."""


def filterable_fields(crm: Crm) -> dict[str, Any]:
    """The customer custom fields a KPI may be filtered by: active, filterable, not sensitive
    (the form engine refuses a sensitive filterable field; checked again here)."""
    from crm_tui.domain.forms.registry import custom_fields

    return {f.key: f for f in custom_fields(crm, "customer") if f.filterable and not f.spec.sensitive}


def parse_field_filter(text: str) -> tuple[str, str]:
    """`KEY=VALUE` (the CLI's `--field`, the filter bar's field box)."""
    key, sep, value = (text or "").partition("=")
    if not sep or not key.strip():
        raise ValidationFailed([FieldError("field", "reporting.error.field_form", {"value": text})])
    return key.strip(), value.strip()


def custom_filters(crm: Crm, pairs: tuple[tuple[str, str], ...],
                   errors: list[FieldError]) -> tuple[CustomFilter, ...]:
    """Each (key, value) checked and parsed by the field's own rules; problems go to `errors`."""
    if not pairs:
        return ()
    from crm_tui.domain.kernel.validation import BadValue

    known = filterable_fields(crm)
    out = []
    for key, raw in pairs:
        field = known.get(key)
        if field is None:
            errors.append(FieldError("field", "reporting.error.field",
                                     {"key": key, "known": ", ".join(sorted(known)) or "—"}))
            continue
        try:
            value = field.spec.parse(raw)
        except BadValue as exc:
            errors.append(FieldError(key, exc.key, exc.params))
            continue
        if field.spec.type == "multi_choice" and len(value) != 1:
            errors.append(FieldError(key, "reporting.error.field_one_value", {}))
            continue
        out.append(CustomFilter(key, field.spec.type, value))
    return tuple(out)


def custom_condition(c: CustomFilter) -> ColumnElement[bool]:
    """The SQL test of one custom filter over `customer.custom` (the expression the form
    engine indexes for filterable fields)."""
    from crm_tui.domain.forms.definitions import custom_value_expr

    element = Customer.custom[c.key]  # type: ignore[index]
    if c.type == "bool":
        return element.as_boolean() == bool(c.value)  # type: ignore[no-any-return]
    if c.type == "number":
        return element.as_integer() == int(c.value)  # type: ignore[no-any-return]
    text_value = custom_value_expr("customer", c.key, Customer.custom)
    if c.type == "multi_choice":
        return text_value.contains(f'"{c.value[0]}"', autoescape=True)  # type: ignore[no-any-return]
    stored = c.value.isoformat() if hasattr(c.value, "isoformat") else str(c.value)
    return text_value == stored  # type: ignore[no-any-return]


@dataclass(frozen=True)
class FilterChoices:
    teams: tuple[tuple[int, str], ...]
    """(id, "BJ01 财富一组") for every team the actor's book can contain."""
    fields: tuple[tuple[str, str, str], ...]
    """(key, label in Chinese, label in English) of the filterable custom fields."""


def filter_choices(crm: Crm, actor: Actor) -> FilterChoices:
    """What the KPI filter bar offers: the teams of the actor's branch (every branch for
    compliance and risk), and the filterable custom fields."""
    q = select(Team.id, Team.name, Branch.code).join(Branch, Branch.id == Team.branch_id)
    if not sees_every_branch(actor):
        q = q.where(Team.branch_id == actor.branch_id)
    with crm.db.read() as session:
        teams = tuple((tid, f"{code} {name}") for tid, name, code in
                      session.execute(q.order_by(Branch.code, Team.name)))
    fields = tuple((f.key, f.label_zh, f.label_en) for f in filterable_fields(crm).values())
    return FilterChoices(teams, fields)

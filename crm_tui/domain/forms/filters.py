"""Filtering lists by custom fields: `KEY=VALUE` on a field marked filterable.

The value is parsed by the field's own declaration (so `是` finds a yes/no field's true,
and a bad date is refused naming the field), then compared with the same expression the
field's expression index is built on (`definitions.custom_value_expr`), so the database
reads the index instead of every record's JSON. A multi-choice field matches the records
whose list contains the value: an expression cannot index a JSON array's items, so they are
kept in `custom_choice` (by triggers, on both backends) and the filter is an EXISTS on its
primary key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, cast, func, select
from sqlalchemy.dialects.postgresql import JSONB

from crm_tui.domain.forms.definitions import custom_value_expr
from crm_tui.domain.forms.registry import CustomField, custom_fields
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, ValidationFailed
from crm_tui.domain.kernel.validation import BadValue, normalise_text
from crm_tui.store.models_forms import CustomChoice

DECIMAL_PLACES = 6
"""A decimal is stored as typed (`12.50`); a filter matches it written with up to this many
places, so `12.5` finds `12.50`."""
RARE_ROWS = 2000
"""A multi-choice value held by at most this many records is rare: the filter starts from
its index rows (then sorts them); a commoner one walks the list's own order and looks each
record up in the index, which finds a page sooner. SQLite's planner has no per-value
statistics to make that choice itself, so the filter counts (at most RARE_ROWS + 1 index
entries) when it is parsed."""


@dataclass(frozen=True)
class CustomFilter:
    """One parsed `KEY=VALUE`: the field, the value as stored, the backend's spelling."""

    entity: str
    key: str
    type: str
    value: Any
    sqlite: bool
    rare: bool = False
    """A multi-choice value few records hold (see RARE_ROWS)."""

    def texts(self) -> list[str]:
        """The value as `custom ->> key` reads it on this backend."""
        v = self.value
        if isinstance(v, bool):
            return [("1" if v else "0")] if self.sqlite else [("true" if v else "false")]
        if isinstance(v, Decimal):
            plain = v.normalize()
            forms = {format(plain, "f")}
            for places in range(1, DECIMAL_PLACES + 1):
                if -plain.as_tuple().exponent <= places:  # type: ignore[operator]
                    forms.add(format(v.quantize(Decimal(1).scaleb(-places)), "f"))
            return sorted(forms)
        if isinstance(v, date):
            return [v.isoformat()]
        return [str(v)]


def filterable_fields(crm: Crm, entity: str) -> tuple[CustomField, ...]:
    """The active fields of `entity` a list can be filtered by (for filter forms)."""
    return tuple(f for f in custom_fields(crm, entity) if f.filterable)


def parse_filters(crm: Crm, entity: str, items: Iterable[str] | dict[str, Any]) -> tuple[
        CustomFilter, ...]:
    """`KEY=VALUE` items (or a {key: value} mapping) as filters; every problem at once,
    naming the key: unknown or not filterable, or a value the field refuses."""
    pairs: list[tuple[str, Any]] = []
    errors: list[FieldError] = []
    if isinstance(items, dict):
        pairs = [(k, v) for k, v in items.items() if v not in (None, "", [])]
    else:
        for item in items:
            key, sep, value = str(item).partition("=")
            if not sep or not normalise_text(key):
                errors.append(FieldError("field", "forms.error.filter_syntax", {"item": item}))
                continue
            if normalise_text(value):  # `key=` while still typing: no filter yet
                pairs.append((normalise_text(key).lower(), value))
    fields = {f.key: f for f in filterable_fields(crm, entity)}
    out: list[CustomFilter] = []
    for key, raw in pairs:
        f = fields.get(key)
        if f is None:
            errors.append(FieldError(key, "forms.error.not_filterable",
                                     {"key": key, "known": ", ".join(fields) or "—"}))
            continue
        try:
            value = f.spec.parse(raw)
        except BadValue as exc:
            errors.append(FieldError(key, exc.key, exc.params, None, (f.label_zh, f.label_en)))
            continue
        if value is None or value == []:
            continue
        if f.spec.type == "multi_choice":
            out.extend(CustomFilter(entity, key, "multi_choice", v, crm.db.is_sqlite,
                                    rare=_is_rare(crm, entity, key, v)) for v in value)
        else:
            out.append(CustomFilter(entity, key, f.spec.type, value, crm.db.is_sqlite))
    if errors:
        raise ValidationFailed(errors)
    return tuple(out)


def _is_rare(crm: Crm, entity: str, key: str, value: Any) -> bool:
    c = CustomChoice.__table__.c  # type: ignore[attr-defined]
    first = (select(c.record_id).where(c.entity == entity, c.field_key == key,
                                       c.value == str(value)).limit(RARE_ROWS + 1).subquery())
    with crm.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(first)) or 0) <= RARE_ROWS


def split_query(crm: Crm, entity: str, query: str) -> tuple[str, tuple[CustomFilter, ...]]:
    """A search box's text without its `key=value` words, and those words as filters."""
    words = str(query or "").split()
    pairs = [w for w in words if "=" in w]
    text = " ".join(w for w in words if "=" not in w)
    return text, parse_filters(crm, entity, pairs) if pairs else ()


def clause(f: CustomFilter, custom_column: Any) -> ColumnElement[bool]:
    """The WHERE condition of one filter on the entity's `custom` column."""
    if f.type == "multi_choice":
        return has_choice(f, _record_id(custom_column))
    expr = custom_value_expr(f.entity, f.key, custom_column)
    texts = f.texts()
    return expr == texts[0] if len(texts) == 1 else expr.in_(texts)


def _record_id(custom_column: Any) -> Any:
    """The id column of the table a `custom` column (ORM attribute or Core column) is on."""
    column = getattr(custom_column, "expression", custom_column)
    return column.table.c.id


def has_choice(f: CustomFilter, record_id: Any) -> ColumnElement[bool]:
    """The record has the item, read from `custom_choice`'s primary key: a rare value as
    `id IN (its index rows)`, a common one as EXISTS (a lookup per record of the list)."""
    c = CustomChoice.__table__.c  # type: ignore[attr-defined]
    same = (c.entity == f.entity, c.field_key == f.key, c.value == str(f.value))
    if f.rare:
        return record_id.in_(select(c.record_id).where(*same))  # type: ignore[no-any-return]
    return select(c.record_id).where(*same, c.record_id == record_id).exists()


def scan_clause(f: CustomFilter, custom_column: Any) -> ColumnElement[bool]:
    """A multi-choice filter that reads every record's JSON (what the index replaces): kept
    for the tests and the bench that compare the two."""
    if f.sqlite:
        items = func.json_each(custom_column, f'$."{f.key}"').table_valued("value")
        return select(items.c.value).where(items.c.value == f.value).exists()
    return cast(custom_column[f.key], JSONB).contains([f.value])


def clauses(filters: Sequence[CustomFilter], custom_column: Any) -> list[ColumnElement[bool]]:
    return [clause(f, custom_column) for f in filters]

"""The field registry: every field of every entity declared once.

A `FieldSpec` says what a field is (type, bounds, choices), how it is labelled (catalog
keys, so zh-CN and en come from the catalog), whether it is sensitive, who may edit it and
whether a change needs approval, and how files name it (import header aliases, export
column). Forms, importers, exporters, the edit path, maker-checker, search and reports read
the declarations instead of keeping their own lists; the form engine adds custom fields to
the same registry.

Each area declares its entity's fields in its own module and calls `register(entity,
specs)` at import time (customers in `customers.fields`, leads and opportunities in
`sales`, tickets in `service`). `clean(entity, raw)` validates a whole record at once and
returns every problem, not the first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from crm_tui.domain.kernel.errors import FieldError
from crm_tui.domain.kernel.validation import (
    BadValue,
    normalise_text,
    parse_amount,
    parse_date,
    parse_email,
    parse_mobile,
)

FieldType = Literal["text", "long_text", "code", "number", "decimal", "money", "date", "datetime",
                    "bool", "choice", "multi_choice", "email", "phone"]

_TRUE = {"1", "true", "yes", "y", "是", "对", "有", "√"}
_FALSE = {"0", "false", "no", "n", "否", "无", "×", ""}


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label_key: str
    """Catalog key of the label (both languages come from the catalog)."""
    type: FieldType = "text"
    required: bool = False
    max_length: int | None = None
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    choices: tuple[str, ...] = ()
    """Stored values of a choice field; their labels are `<choice_prefix>.<value>`."""
    choice_prefix: str | None = None
    pattern: str | None = None
    sensitive: bool = False
    editable_by: frozenset[str] = frozenset()
    """Roles that may change the field directly; empty means nobody (set by the system)."""
    needs_approval: bool = False
    """A change goes through maker-checker instead of being saved."""
    aliases: tuple[str, ...] = ()
    """Import header aliases, besides the key and the labels in every language."""
    export_column: str | None = None
    """The column name in exports; None keeps the field out of exports."""
    section: str = "main"
    help_key: str | None = None
    custom: bool = False
    default: Any = None
    """The value of a blank, optional field (None unless given; False for a bool)."""
    value_aliases: tuple[tuple[str, str], ...] = ()
    """Other spellings of stored values a file may use (`("个人", "individual")`)."""
    importable: bool = True
    """Read from import files (system fields such as ids and timestamps are not)."""
    parser: Callable[[Any], Any] | None = field(default=None, compare=False)
    """A parser of its own (a national ID, a bank account): raises BadValue."""

    def parse(self, raw: Any) -> Any:
        """The stored value for `raw`, or BadValue naming the rule that failed."""
        if self.value_aliases and isinstance(raw, str):
            raw = dict(self.value_aliases).get(normalise_text(raw), raw)
        if self.parser is not None:
            if _blank(raw):
                if self.required:
                    raise BadValue("validation.required")
                return self.default
            value = self.parser(raw)
            if isinstance(value, str) and self.max_length is not None and len(value) > self.max_length:
                raise BadValue("validation.too_long", max=self.max_length)
            return self.default if value in (None, "") else value
        if self.type == "multi_choice":
            items = raw if isinstance(raw, list | tuple) else re.split(r"[,，;；、]", str(raw or ""))
            values = [normalise_text(str(v)) for v in items if normalise_text(str(v))]
            if self.required and not values:
                raise BadValue("validation.required")
            for v in values:
                if v not in self.choices:
                    raise BadValue("validation.choice", value=v)
            return values
        if _blank(raw):
            if self.required:
                raise BadValue("validation.required")
            return self.default if self.type != "bool" else bool(self.default)
        if self.type in ("text", "long_text", "code"):
            value = normalise_text(str(raw))
            if self.type == "code":
                value = value.upper()
            if self.max_length is not None and len(value) > self.max_length:
                raise BadValue("validation.too_long", max=self.max_length)
            if self.pattern is not None and not re.fullmatch(self.pattern, value):
                raise BadValue("validation.pattern", pattern=self.pattern)
            return value
        if self.type == "email":
            value = parse_email(str(raw))
            if self.max_length is not None and len(value) > self.max_length:
                raise BadValue("validation.too_long", max=self.max_length)
            return value
        if self.type == "phone":
            return parse_mobile(str(raw))
        if self.type == "date":
            return parse_date(raw)
        if self.type == "bool":
            text = normalise_text(str(raw)).lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise BadValue("validation.bool", value=text)
        if self.type == "choice":
            value = normalise_text(str(raw))
            if value not in self.choices:
                raise BadValue("validation.choice", value=value)
            return value
        if self.type in ("money", "decimal", "number"):
            number = _number(self.type, raw)
            if self.min_value is not None and number < self.min_value:
                raise BadValue("validation.min", min=self.min_value)
            if self.max_value is not None and number > self.max_value:
                raise BadValue("validation.max", max=self.max_value)
            return number
        raise BadValue("validation.type", type=self.type)


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not normalise_text(raw))


def _number(kind: str, raw: Any) -> Decimal | int:
    if kind == "money":
        return parse_amount(raw)
    text = normalise_text(str(raw)).replace(",", "")
    if not re.fullmatch(r"-?\d+(\.\d+)?", text):
        raise BadValue("validation.number", value=text[:40])
    value = Decimal(text)
    if kind == "number":
        if value != value.to_integral_value():
            raise BadValue("validation.integer", value=text[:40])
        return int(value)
    return value


_REGISTRY: dict[str, dict[str, FieldSpec]] = {}


def register(entity: str, specs: Iterable[FieldSpec]) -> None:
    """Declare (or re-declare) the fields of `entity`, in form order."""
    table = _REGISTRY.setdefault(entity, {})
    for spec in specs:
        table[spec.key] = spec


def unregister(entity: str, key: str) -> None:
    _REGISTRY.get(entity, {}).pop(key, None)


def fields_of(entity: str) -> tuple[FieldSpec, ...]:
    return tuple(_REGISTRY.get(entity, {}).values())


def spec(entity: str, key: str) -> FieldSpec:
    return _REGISTRY[entity][key]


def find(entity: str, key: str) -> FieldSpec | None:
    return _REGISTRY.get(entity, {}).get(key)


def choice_label_key(s: FieldSpec, value: Any) -> str | None:
    """The catalog key of a choice value's label (`customer_kind.individual`), if it has one."""
    if s.choice_prefix is None or value in (None, ""):
        return None
    return f"{s.choice_prefix}.{value}"


def clean(entity: str, raw: Mapping[str, Any], *, only: Iterable[str] | None = None,
          row: int | None = None) -> tuple[dict[str, Any], list[FieldError]]:
    """Validate the given fields of one record (all declared ones, or `only`); every problem
    at once. Fields not declared for `entity` are refused."""
    table = _REGISTRY.get(entity, {})
    keys = list(only) if only is not None else list(table)
    out: dict[str, Any] = {}
    errors: list[FieldError] = []
    for key in keys:
        s = table.get(key)
        if s is None:
            errors.append(FieldError(key, "validation.not_editable", {}, row))
            continue
        try:
            out[key] = s.parse(raw.get(key))
        except BadValue as exc:
            errors.append(FieldError(key, exc.key, exc.params, row))
    return out, errors


def header_map(entity: str, labels: Callable[[str], Iterable[str]]) -> dict[str, str]:
    """Import headers (key, aliases, and every language's label via `labels(label_key)`)
    mapped to field keys, case- and space-insensitive."""
    out: dict[str, str] = {}
    for s in fields_of(entity):
        for name in (s.key, *s.aliases, *labels(s.label_key)):
            out[normalise_header(name)] = s.key
    return out


def normalise_header(name: str) -> str:
    return re.sub(r"[\s_]+", "", normalise_text(name)).lower()


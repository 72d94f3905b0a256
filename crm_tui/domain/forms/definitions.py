"""Defining custom fields: add, edit, retire, re-add, list and history.

Every change is validated (pydantic), versioned (a `field_definition_version` row with the
whole definition), audited in the same transaction, and bumps the registry's generation so
every session sees it within seconds. Changing a field's type is refused while stored
values would not convert, with how many and a few examples. A filterable field gets an
expression index on its key in the entity's JSON column.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import JSON, column, select, table, text
from sqlmodel import Session

from crm_tui.domain.forms.patterns import check_pattern
from crm_tui.domain.forms.registry import ENTITIES, TYPES, bump_generation, forget, spec_of
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, NotFound, ValidationFailed
from crm_tui.domain.kernel.fields import fields_of
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.validation import BadValue, normalise_text
from crm_tui.store.models_forms import FieldDefinition, FieldDefinitionVersion
from crm_tui.store.types import utcnow

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
TABLES = {"customer": "customer", "lead": "lead", "opportunity": "opportunity", "ticket": "ticket"}
RESERVED = frozenset({"id", "custom", "version", "created_at", "updated_at", "status"})
EXAMPLES = 5


class FieldInput(BaseModel):
    """What an admin may set on a definition; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: str = "text"
    label_zh: str = Field(min_length=1, max_length=60)
    label_en: str = Field(min_length=1, max_length=60)
    required: bool = False
    choices: list[str] = Field(default_factory=list, max_length=200)
    pattern: str | None = None
    min_value: str | None = None
    max_value: str | None = None
    help_zh: str = Field(default="", max_length=200)
    help_en: str = Field(default="", max_length=200)
    section: str = Field(default="custom", min_length=1, max_length=40)
    position: int = Field(default=0, ge=0, le=9999)
    sensitive: bool = False
    filterable: bool = False

    @field_validator("type")
    @classmethod
    def _type(cls, v: str) -> str:
        if v not in TYPES:
            raise ValueError(f"must be one of {', '.join(TYPES)}")
        return v

    @field_validator("choices")
    @classmethod
    def _choices(cls, v: list[str]) -> list[str]:
        out = [normalise_text(c) for c in v if normalise_text(c)]
        if len(set(out)) != len(out):
            raise ValueError("choices repeat")
        if any(len(c) > 60 for c in out):
            raise ValueError("a choice is longer than 60 characters")
        return out

    @field_validator("min_value", "max_value")
    @classmethod
    def _number(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        try:
            d = Decimal(v)
        except InvalidOperation:
            raise ValueError(f"{v!r} is not a number") from None
        if not d.is_finite() or abs(d) > Decimal("1e15"):
            raise ValueError(f"{v!r} is out of range")
        return str(d)


@dataclass(frozen=True)
class FieldView:
    entity: str
    key: str
    type: str
    label_zh: str
    label_en: str
    required: bool
    choices: tuple[str, ...]
    pattern: str | None
    min_value: str | None
    max_value: str | None
    help_zh: str
    help_en: str
    section: str
    position: int
    sensitive: bool
    filterable: bool
    status: str
    version: int
    updated_at: datetime


def _view(d: FieldDefinition) -> FieldView:
    return FieldView(d.entity, d.key, d.type, d.label_zh, d.label_en, d.required,
                     tuple(d.choices or ()), d.pattern, d.min_value, d.max_value, d.help_zh,
                     d.help_en, d.section, d.position, d.sensitive, d.filterable, d.status,
                     d.version, d.updated_at)


def _body(d: FieldDefinition) -> dict[str, Any]:
    return {k: v for k, v in _view(d).__dict__.items() if k != "updated_at"}


def _errors_of(exc: ValidationError) -> ValidationFailed:
    return ValidationFailed([
        FieldError(str(e["loc"][0]) if e["loc"] else "field", "forms.error.invalid",
                   {"detail": str(e["msg"]).removeprefix("Value error, ")})
        for e in exc.errors()])


def _check(entity: str, values: FieldInput) -> None:
    problems: list[FieldError] = []
    if values.type in ("choice", "multi_choice") and not values.choices:
        problems.append(FieldError("choices", "forms.error.choices_needed", {}))
    if values.type not in ("choice", "multi_choice") and values.choices:
        problems.append(FieldError("choices", "forms.error.choices_unused", {}))
    if values.pattern:
        if values.type != "text":
            problems.append(FieldError("pattern", "forms.error.pattern_text_only", {}))
        else:
            try:
                check_pattern(values.pattern)
            except BadValue as exc:
                problems.append(FieldError("pattern", exc.key, exc.params))
    if (values.min_value or values.max_value) and values.type not in ("number", "decimal"):
        problems.append(FieldError("min_value", "forms.error.bounds_numeric_only", {}))
    if (values.min_value and values.max_value
            and Decimal(values.min_value) > Decimal(values.max_value)):
        problems.append(FieldError("min_value", "forms.error.bounds_order", {}))
    if values.sensitive and values.filterable:
        problems.append(FieldError("filterable", "forms.error.sensitive_filter", {}))
    if problems:
        raise ValidationFailed(problems)


def _find(session: Session, entity: str, key: str) -> FieldDefinition:
    d = session.scalars(select(FieldDefinition).where(
        FieldDefinition.entity == entity, FieldDefinition.key == key)).first()
    if d is None:
        raise NotFound("forms.error.no_field", entity=entity, key=key)
    return d


def _version(crm: Crm, session: Session, actor: Actor, d: FieldDefinition, change: str,
             before: dict[str, Any] | None) -> None:
    session.add(FieldDefinitionVersion(definition_id=d.id or 0, version=d.version, change=change,
                                       body=_body(d), changed_by=actor.username,
                                       changed_at=utcnow()))
    audit.record(crm.db, session, actor, f"field.{change}", "field_definition",
                 f"{d.entity}.{d.key}", before, _body(d))
    bump_generation(session)


def _index_name(entity: str, key: str) -> str:
    return f"ix_{TABLES[entity]}_cf_{key}"


def _ensure_index(session: Session, entity: str, key: str, want: bool) -> None:
    """Create (or drop) the expression index of a filterable field, in this transaction."""
    name = _index_name(entity, key)
    if not want:
        session.execute(text(f'DROP INDEX IF EXISTS "{name}"'))
        return
    if not _table_exists(session, TABLES[entity]):
        return
    expr = custom_value_expr(entity, key)
    dialect = session.get_bind().dialect
    sql = str(expr.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    # An index expression names its columns unqualified; the planner still matches a query
    # that writes `customer.custom`.
    sql = sql.replace(f'"{TABLES[entity]}".', "").replace(f"{TABLES[entity]}.", "")
    session.execute(text(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{TABLES[entity]}" (({sql}))'))


def _table_exists(session: Session, name: str) -> bool:
    from sqlalchemy import inspect

    return inspect(session.connection()).has_table(name)


def custom_value_expr(entity: str, key: str, custom_column: Any = None) -> Any:
    """`custom ->> key` on either backend: what list filters and the expression index share
    (pass the model's column, e.g. `Customer.custom`, when filtering a query)."""
    if custom_column is None:
        custom_column = table(TABLES[entity], column("custom", JSON)).c.custom
    return custom_column[key].as_string()


def _builtin_keys(entity: str) -> set[str]:
    """Declared built-in fields and the entity table's own columns (`name`, `phone`, …)."""
    from sqlmodel import SQLModel

    keys = {s.key for s in fields_of(entity)}
    table_ = SQLModel.metadata.tables.get(TABLES[entity])
    if table_ is not None:
        keys |= {c.name for c in table_.columns}
        keys |= {c.name.removesuffix("_enc").removesuffix("_fen") for c in table_.columns}
    return keys


def add_field(crm: Crm, actor: Actor, entity: str, key: str, **attrs: Any) -> FieldView:
    """Define a new custom field (or bring a retired one back with the new attributes)."""
    require(actor, Perm.FIELDS_MANAGE)
    if entity not in ENTITIES:
        raise ValidationFailed([FieldError("entity", "validation.choice", {"value": entity})])
    key = normalise_text(key).lower()
    if not KEY_RE.match(key) or key in RESERVED:
        raise ValidationFailed([FieldError("key", "forms.error.key", {"key": key})])
    if key in _builtin_keys(entity):
        raise ValidationFailed([FieldError("key", "forms.error.builtin", {"key": key})])
    try:
        values = FieldInput(**attrs)
    except ValidationError as exc:
        raise _errors_of(exc) from None
    _check(entity, values)
    with crm.db.write() as session:
        found = session.scalars(select(FieldDefinition).where(
            FieldDefinition.entity == entity, FieldDefinition.key == key)).first()
        if found is not None and found.status == "active":
            raise ValidationFailed([FieldError("key", "forms.error.exists", {"key": key})])
        if found is not None:
            before = _body(found)
            _refuse_unconvertible(crm, session, found, values.type, values)
            for name, value in values.model_dump().items():
                setattr(found, name, value)
            found.status, found.version, found.updated_at = "active", found.version + 1, utcnow()
            session.add(found)
            session.flush()
            _version(crm, session, actor, found, "readd", before)
            d = found
        else:
            d = FieldDefinition(entity=entity, key=key, **values.model_dump())
            session.add(d)
            session.flush()
            _version(crm, session, actor, d, "add", None)
        _ensure_index(session, entity, key, d.filterable)
        view = _view(d)
    forget(crm)
    return view


def edit_field(crm: Crm, actor: Actor, entity: str, key: str, **changes: Any) -> FieldView:
    """Change attributes of a defined field; a type change must convert every stored value."""
    require(actor, Perm.FIELDS_MANAGE)
    with crm.db.write() as session:
        d = _find(session, entity, key)
        before = _body(d)
        merged = {k: v for k, v in before.items() if k in FieldInput.model_fields}
        merged["choices"] = list(merged["choices"])
        merged.update(changes)
        try:
            values = FieldInput(**merged)
        except ValidationError as exc:
            raise _errors_of(exc) from None
        _check(entity, values)
        if values.type != d.type or values.choices != list(d.choices or ()) or \
                values.pattern != d.pattern or values.min_value != d.min_value or \
                values.max_value != d.max_value or values.sensitive != d.sensitive:
            _refuse_unconvertible(crm, session, d, values.type, values)
        if values.sensitive != d.sensitive:
            raise ValidationFailed([FieldError("sensitive", "forms.error.sensitive_fixed", {})])
        for name, value in values.model_dump().items():
            setattr(d, name, value)
        if _body(d) == before:
            return _view(d)
        d.version += 1
        d.updated_at = utcnow()
        session.add(d)
        session.flush()
        _version(crm, session, actor, d, "edit", before)
        _ensure_index(session, entity, key, d.filterable and d.status == "active")
        view = _view(d)
    forget(crm)
    return view


def retire_field(crm: Crm, actor: Actor, entity: str, key: str) -> FieldView:
    """Take a field out of forms; its stored values stay and can still be exported."""
    require(actor, Perm.FIELDS_MANAGE)
    with crm.db.write() as session:
        d = _find(session, entity, key)
        if d.status == "retired":
            return _view(d)
        before = _body(d)
        d.status, d.version, d.updated_at = "retired", d.version + 1, utcnow()
        session.add(d)
        session.flush()
        _version(crm, session, actor, d, "retire", before)
        _ensure_index(session, entity, key, False)
        view = _view(d)
    forget(crm)
    return view


def list_fields(crm: Crm, actor: Actor, entity: str | None = None, *,
                include_retired: bool = False) -> list[FieldView]:
    if include_retired:
        require(actor, Perm.FIELDS_MANAGE)
    q = select(FieldDefinition).order_by(FieldDefinition.entity, FieldDefinition.position,
                                         FieldDefinition.id)
    if entity is not None:
        q = q.where(FieldDefinition.entity == entity)
    if not include_retired:
        q = q.where(FieldDefinition.status == "active")
    with crm.db.read() as session:
        return [_view(d) for d in session.scalars(q)]


def field_history(crm: Crm, actor: Actor, entity: str, key: str) -> list[dict[str, Any]]:
    require(actor, Perm.FIELDS_MANAGE)
    with crm.db.read() as session:
        d = _find(session, entity, key)
        rows = session.scalars(select(FieldDefinitionVersion).where(
            FieldDefinitionVersion.definition_id == d.id).order_by(FieldDefinitionVersion.id))
        return [{"version": r.version, "change": r.change, "by": r.changed_by,
                 "at": r.changed_at, "definition": r.body} for r in rows]


def _stored_values(crm: Crm, session: Session, d: FieldDefinition) -> Iterator[tuple[int, Any]]:
    """(record id, stored value) of every record holding a value for the field, in batches."""
    if not _table_exists(session, TABLES[d.entity]):
        return
    t = table(TABLES[d.entity], column("id"), column("custom", JSON))
    last = 0
    while True:
        rows = session.execute(select(t.c.id, t.c.custom).where(
            t.c.id > last, custom_value_expr(d.entity, d.key, t.c.custom).is_not(None))
            .order_by(t.c.id).limit(2000)).all()
        if not rows:
            return
        for rid, custom in rows:
            value = (custom or {}).get(d.key)
            if value is not None:
                if d.sensitive:
                    value = crm.keys.decrypt(f"custom.{d.entity}.{d.key}", value)
                yield rid, value
        last = rows[-1][0]


def _refuse_unconvertible(crm: Crm, session: Session, d: FieldDefinition, new_type: str,
                          values: FieldInput) -> None:
    probe = FieldDefinition(entity=d.entity, key=d.key, **values.model_dump())
    probe.type = new_type
    target = spec_of(probe)
    bad: list[str] = []
    count = 0
    for rid, value in _stored_values(crm, session, d):
        try:
            target.parse(value if not isinstance(value, bool) else ("1" if value else "0"))
        except BadValue:
            count += 1
            if len(bad) < EXAMPLES:
                bad.append(f"#{rid}: {str(value)[:30]}")
    if count:
        raise ValidationFailed([FieldError("type", "forms.error.unconvertible",
                                           {"count": count, "examples": ", ".join(bad)})])

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
from typing import Any

from pydantic import ValidationError
from sqlalchemy import JSON, column, select, table, text
from sqlmodel import Session

from crm_tui.domain.forms.field_input import FieldInput, check_input, errors_of
from crm_tui.domain.forms.registry import ENTITIES, bump_generation, forget, spec_of
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, NotFound, ValidationFailed
from crm_tui.domain.kernel.fields import fields_of
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.validation import BadValue, normalise_text
from crm_tui.store import choice_index
from crm_tui.store.models_forms import FieldDefinition, FieldDefinitionVersion
from crm_tui.store.types import utcnow

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
TABLES = {"customer": "customer", "lead": "lead", "opportunity": "opportunity", "ticket": "ticket"}
RESERVED = frozenset({"id", "custom", "version", "created_at", "updated_at", "status"})
EXAMPLES = 5


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
    """Create (or drop) the expression index of a filterable field, in this transaction, and
    rewrite the field's rows of the multi-choice index (`custom_choice`) to match (a
    multi-choice field has those rows instead: `custom ->> key` of a list serves no filter)."""
    choice_index.refill(session.connection(), entity, key)
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


def new_field_input(entity: str, key: str, attrs: dict[str, Any]) -> tuple[str, FieldInput]:
    """A new field's key and attributes, checked (nothing stored): every problem at once."""
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
        raise errors_of(exc) from None
    check_input(entity, values)
    return key, values


def edited_input(d: FieldDefinition | FieldView, changes: dict[str, Any]) -> FieldInput:
    """A defined field's attributes with `changes` applied, checked (nothing stored)."""
    body = {k: v for k, v in (_body(d) if isinstance(d, FieldDefinition) else
                              {k: getattr(d, k) for k in FieldInput.model_fields}).items()
            if k in FieldInput.model_fields}
    body["choices"] = list(body["choices"])
    body.update(changes)
    try:
        values = FieldInput(**body)
    except ValidationError as exc:
        raise errors_of(exc) from None
    check_input(d.entity, values)
    return values


def add_field(crm: Crm, actor: Actor, entity: str, key: str, **attrs: Any) -> FieldView:
    """Define a new custom field (or bring a retired one back with the new attributes)."""
    require(actor, Perm.FIELDS_MANAGE)
    key, values = new_field_input(entity, key, attrs)
    with crm.db.write() as session:
        view = add_in(crm, session, actor, entity, key, values)
    forget(crm)
    return view


def add_in(crm: Crm, session: Session, actor: Actor, entity: str, key: str,
           values: FieldInput) -> FieldView:
    """`add_field` inside the caller's transaction (an approved request applies it so)."""
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
    _ensure_index(session, entity, key, d.filterable and d.type != "multi_choice")
    return _view(d)


def edit_field(crm: Crm, actor: Actor, entity: str, key: str, **changes: Any) -> FieldView:
    """Change attributes of a defined field; a type change must convert every stored value."""
    require(actor, Perm.FIELDS_MANAGE)
    with crm.db.write() as session:
        view = edit_in(crm, session, actor, entity, key, changes)
    forget(crm)
    return view


def edit_in(crm: Crm, session: Session, actor: Actor, entity: str, key: str,
            changes: dict[str, Any]) -> FieldView:
    d = _find(session, entity, key)
    before = _body(d)
    values = edited_input(d, changes)
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
    _ensure_index(session, entity, key,
                  d.filterable and d.status == "active" and d.type != "multi_choice")
    return _view(d)


def retire_field(crm: Crm, actor: Actor, entity: str, key: str) -> FieldView:
    """Take a field out of forms; its stored values stay and can still be exported."""
    require(actor, Perm.FIELDS_MANAGE)
    with crm.db.write() as session:
        view = retire_in(crm, session, actor, entity, key)
    forget(crm)
    return view


def retire_in(crm: Crm, session: Session, actor: Actor, entity: str, key: str) -> FieldView:
    d = _find(session, entity, key)
    if d.status == "retired":
        return _view(d)
    before = _body(d)
    d.status, d.version, d.updated_at = "retired", d.version + 1, utcnow()
    session.add(d)
    session.flush()
    _version(crm, session, actor, d, "retire", before)
    _ensure_index(session, entity, key, False)
    return _view(d)


def find_field(crm: Crm, entity: str, key: str) -> FieldView | None:
    """The definition (active or retired), or None."""
    with crm.db.read() as session:
        d = session.scalars(select(FieldDefinition).where(
            FieldDefinition.entity == entity, FieldDefinition.key == key)).first()
        return _view(d) if d is not None else None


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

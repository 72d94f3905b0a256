"""Custom fields as field-registry declarations, per database, cached until one changes.

Built-in fields are declared in code (`kernel.fields.register`); custom fields live in the
store, so they are read per database and turned into the same `FieldSpec`s (custom=True).
Every definition change bumps a generation counter in the `setting` table; a process
re-reads the definitions when it sees a new generation, checked at most every few seconds,
so other sessions see a new field within seconds, as they see a new policy.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, create_model
from sqlalchemy import select
from sqlmodel import Session

from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, ValidationFailed
from crm_tui.domain.kernel.fields import FieldSpec, fields_of
from crm_tui.domain.kernel.validation import BadValue
from crm_tui.store.models import Setting
from crm_tui.store.models_forms import FieldDefinition

ENTITIES = ("customer", "lead", "opportunity", "ticket")
TYPES = ("text", "number", "decimal", "date", "bool", "choice", "multi_choice")
GENERATION_KEY = "fields.generation"
RECHECK_SECONDS = 3.0


@dataclass(frozen=True)
class CustomField:
    """A custom field as forms and lists need it: the spec plus both labels and help."""

    spec: FieldSpec
    entity: str
    label_zh: str
    label_en: str
    help_zh: str
    help_en: str
    position: int
    filterable: bool
    retired: bool

    @property
    def key(self) -> str:
        return self.spec.key

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_zh

    def help(self, lang: str) -> str:
        return self.help_en if lang == "en" else self.help_zh


def spec_of(d: FieldDefinition) -> FieldSpec:
    return FieldSpec(
        key=d.key, label_key=f"custom.{d.entity}.{d.key}", type=d.type,  # type: ignore[arg-type]
        required=d.required, max_length=500 if d.type == "text" else None,
        min_value=Decimal(d.min_value) if d.min_value is not None else None,
        max_value=Decimal(d.max_value) if d.max_value is not None else None,
        choices=tuple(d.choices or ()), pattern=d.pattern, sensitive=d.sensitive,
        editable_by=frozenset({"rm", "supervisor", "branch_head", "service"}),
        needs_approval=d.sensitive, aliases=(d.label_zh, d.label_en),
        export_column=d.key, section=d.section or "custom", custom=True)


def field_of(d: FieldDefinition) -> CustomField:
    return CustomField(spec_of(d), d.entity, d.label_zh, d.label_en, d.help_zh, d.help_en,
                       d.position, d.filterable, d.status == "retired")


def bump_generation(session: Session) -> None:
    row = session.get(Setting, GENERATION_KEY)
    if row is None:
        row = Setting(key=GENERATION_KEY, value="0")
    row.value = str(int(row.value or "0") + 1)
    session.add(row)


@dataclass
class _Cache:
    generation: str | None = None
    checked: float = 0.0
    fields: dict[str, tuple[CustomField, ...]] | None = None
    models: dict[str, type[BaseModel]] | None = None


_caches: dict[int, _Cache] = {}
_lock = threading.Lock()


def _load(crm: Crm) -> _Cache:
    key = id(crm.db)
    with _lock:
        cache = _caches.setdefault(key, _Cache())
    now = time.monotonic()
    if cache.fields is not None and now - cache.checked < RECHECK_SECONDS:
        return cache
    with crm.db.read() as session:
        row = session.get(Setting, GENERATION_KEY)
        generation = row.value if row else "0"
        if cache.fields is None or generation != cache.generation:
            rows = session.scalars(select(FieldDefinition).order_by(
                FieldDefinition.entity, FieldDefinition.position, FieldDefinition.id)).all()
            grouped: dict[str, list[CustomField]] = {e: [] for e in ENTITIES}
            for d in rows:
                grouped.setdefault(d.entity, []).append(field_of(d))
            cache.fields = {e: tuple(v) for e, v in grouped.items()}
            cache.models = {}
            cache.generation = generation
    cache.checked = now
    return cache


def forget(crm: Crm) -> None:
    """Drop this process's cache (after a change made here)."""
    with _lock:
        _caches.pop(id(crm.db), None)


def custom_fields(crm: Crm, entity: str, *, include_retired: bool = False) -> tuple[CustomField, ...]:
    found = _load(crm).fields or {}
    return tuple(f for f in found.get(entity, ()) if include_retired or not f.retired)


def all_specs(crm: Crm, entity: str) -> tuple[FieldSpec, ...]:
    """Built-in and active custom fields of `entity`, as one list of declarations."""
    return fields_of(entity) + tuple(f.spec for f in custom_fields(crm, entity))


def _parser(spec: FieldSpec) -> Any:
    def parse(value: Any) -> Any:
        return spec.parse(value)
    return parse


def model_for(crm: Crm, entity: str) -> type[BaseModel]:
    """The pydantic model of `entity`'s active custom fields, rebuilt when one changes."""
    cache = _load(crm)
    models = cache.models if cache.models is not None else {}
    model = models.get(entity)
    if model is None:
        fields: dict[str, Any] = {
            f.key: (Annotated[Any, BeforeValidator(_parser(f.spec))], None)
            for f in custom_fields(crm, entity)}
        model = create_model(f"Custom_{entity}", __config__=ConfigDict(extra="forbid"),
                             **fields)
        models[entity] = model
        cache.models = models
    return model


def validate_custom(crm: Crm, entity: str, raw: dict[str, Any], *,
                    row: int | None = None) -> dict[str, Any]:
    """Clean custom values through the entity's model; every problem as a FieldError."""
    model = model_for(crm, entity)
    labels = {f.key: (f.label_zh, f.label_en) for f in custom_fields(crm, entity)}
    try:
        return model.model_validate(raw).model_dump(exclude_unset=True)
    except ValidationError as exc:
        errors: list[FieldError] = []
        for err in exc.errors():
            key = str(err["loc"][0]) if err["loc"] else "?"
            cause = (err.get("ctx") or {}).get("error")
            if isinstance(cause, BadValue):
                errors.append(FieldError(key, cause.key, cause.params, row, labels.get(key)))
            elif err["type"] == "extra_forbidden":
                errors.append(FieldError(key, "validation.not_editable", {}, row))
            else:
                errors.append(FieldError(key, "validation.type", {"type": err["type"]}, row))
        raise ValidationFailed(errors) from None

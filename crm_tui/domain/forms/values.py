"""Custom values on any entity's record (customer, lead, opportunity, ticket): read for a
form (sensitive ones masked), validated through the entity's pydantic model, stored in the
record's `custom` JSON column (ciphertext for a sensitive field) and saved through the one
optimistic-lock write with its audit event.

Each entity's module supplies what only it knows: how to load a record in the actor's
scope, and the permission to check. Everything else — validation, the sensitive-field
rule, merging, the versioned UPDATE, the audit event — is here, once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, column, select, table
from sqlmodel import Session

from crm_tui.domain.forms.registry import CustomField, custom_fields, validate_custom
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.conflicts import conflict
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import Conflict, FieldError, ValidationFailed
from crm_tui.domain.kernel.versioned import save_versioned
from crm_tui.store.models_compliance import ApprovalRequest

CHANGE_KIND = "custom_field_change"
"""The approval kind of a sensitive custom field's change (`compliance.custom_field_changes`)."""


@dataclass(frozen=True)
class CustomValue:
    key: str
    label_zh: str
    label_en: str
    help_zh: str
    help_en: str
    section: str
    type: str
    choices: tuple[str, ...]
    required: bool
    sensitive: bool
    text: str
    """The value as the form shows and edits it (masked when sensitive)."""

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_zh

    def help(self, lang: str) -> str:
        return self.help_en if lang == "en" else self.help_zh


@dataclass(frozen=True)
class CustomFieldsView:
    """One record's custom values with the version an edit must name."""

    entity: str
    record_id: int
    version: int
    values: tuple[CustomValue, ...]
    pending: dict[str, int] = dc_field(default_factory=dict)
    """Sensitive fields with a change waiting for approval: key → request id."""

    @property
    def customer_id(self) -> int:  # the profile's name for it
        return self.record_id


def column_of(entity: str, key: str) -> str:
    """The encryption context of a sensitive custom field (binds ciphertext to its field)."""
    return f"custom.{entity}.{key}"


def json_ready(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def to_stored(crm: Crm, field: CustomField, value: Any) -> Any:
    """JSON-ready value; ciphertext for a sensitive field; None for a blank one."""
    if value is None or value == [] or value == "":
        return None
    value = json_ready(value)
    if field.spec.sensitive:
        return crm.keys.encrypt(column_of(field.entity, field.key), str(value))
    return value


def plain_value(crm: Crm, field: CustomField, stored: Any) -> Any:
    if stored is not None and field.spec.sensitive:
        return crm.keys.decrypt(column_of(field.entity, field.key), stored)
    return stored


def display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def mask(text: str) -> str:
    if len(text) <= 2:
        return "*" * len(text)
    return text[0] + "*" * (len(text) - 2) + text[-1]


def shown(crm: Crm, field: CustomField, stored: Any) -> str:
    """What a person may see of a stored value: masked when the field is sensitive."""
    text = display(plain_value(crm, field, stored))
    return mask(text) if field.spec.sensitive else text


def values_for(crm: Crm, entity: str, custom: dict[str, Any] | None) -> tuple[CustomValue, ...]:
    """The entity's active custom fields with this record's values, in form order."""
    custom = custom or {}
    return tuple(CustomValue(f.key, f.label_zh, f.label_en, f.help_zh, f.help_en,
                             f.spec.section, f.spec.type, f.spec.choices, f.spec.required,
                             f.spec.sensitive, shown(crm, f, custom.get(f.key)))
                 for f in custom_fields(crm, entity))


def blank_view(crm: Crm, entity: str) -> CustomFieldsView:
    """The fields of a record not yet made (a new lead's or ticket's form)."""
    return CustomFieldsView(entity, 0, 0, values_for(crm, entity, {}))


def as_json(crm: Crm, entity: str, custom: dict[str, Any] | None) -> dict[str, Any]:
    """The record's active custom values for `--json` lists: JSON values by key, a
    sensitive one masked."""
    custom = custom or {}
    out: dict[str, Any] = {}
    for f in custom_fields(crm, entity):
        stored = custom.get(f.key)
        if stored is not None:
            out[f.key] = shown(crm, f, stored) if f.spec.sensitive else stored
    return out


def custom_json_by_id(crm: Crm, entity: str, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """`as_json` for many records of a list page in one query (the CLI's `custom` object)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    t = table(entity, column("id"), column("custom", JSON))
    out: dict[int, dict[str, Any]] = {}
    with crm.db.read() as session:
        for start in range(0, len(wanted), 500):
            rows = session.execute(select(t.c.id, t.c.custom).where(
                t.c.id.in_(wanted[start:start + 500]))).all()
            out.update({rid: as_json(crm, entity, custom) for rid, custom in rows})
    return out


# -- creating and saving ------------------------------------------------------------------


def stored_for_new(crm: Crm, entity: str, raw: dict[str, Any] | None, *,
                   row: int | None = None, require_all: bool = True) -> dict[str, Any]:
    """The `custom` column of a new record: every given field validated (and, unless
    `require_all` is off — an import file without the column — every required one must be
    given), sensitive ones encrypted. Raises ValidationFailed with every problem."""
    raw = {k: v for k, v in (raw or {}).items()}
    fields = {f.key: f for f in custom_fields(crm, entity)}
    for key, f in fields.items():
        if f.spec.required and require_all:
            raw.setdefault(key, None)
    clean = validate_custom(crm, entity, raw, row=row)
    out: dict[str, Any] = {}
    for key, value in clean.items():
        stored = to_stored(crm, fields[key], value)
        if stored is not None:
            out[key] = stored
    return out


def check_edit(crm: Crm, entity: str, raw: dict[str, Any]) -> tuple[dict[str, CustomField],
                                                                     dict[str, Any]]:
    """Validate an edit of existing values: (the fields, the clean values). A sensitive field
    is refused when the policy sends its changes to maker-checker."""
    fields = {f.key: f for f in custom_fields(crm, entity)}
    if crm.policy().forms.sensitive_custom_needs_approval:
        refused = [FieldError(k, "validation.sensitive_needs_approval", {})
                   for k in raw if k in fields and fields[k].spec.sensitive]
        if refused:
            raise ValidationFailed(refused)
    clean = validate_custom(crm, entity, raw)
    missing = [FieldError(k, "validation.required", {}) for k, f in fields.items()
               if f.spec.required and k in raw and clean.get(k) in (None, [], "")]
    if missing:
        raise ValidationFailed(missing)
    return fields, clean


def write_custom(crm: Crm, session: Session, actor: Actor, entity: str, record: Any,
                 expected_version: int, fields: dict[str, CustomField],
                 clean: dict[str, Any]) -> int:
    """Merge `clean` into the loaded record's values and save them at `expected_version`
    with the `<entity>.update` audit event (sensitive values masked); the new version."""
    record_id = int(record.id)
    current = dict(record.custom or {})
    new = dict(current)
    for key, value in clean.items():
        stored = to_stored(crm, fields[key], value)
        if stored is None:
            new.pop(key, None)
        else:
            new[key] = stored
    changed = sorted(k for k in clean if plain_value(crm, fields[k], current.get(k))
                     != plain_value(crm, fields[k], new.get(k)))
    if not changed:
        if record.version != expected_version:
            raise Conflict(version=record.version)
        return int(record.version)
    version = save_versioned(
        session, type(record), record_id, expected_version, {"custom": new},
        lambda: conflict(session, crm.tz, entity, record_id, version=record.version))
    audit.record(crm.db, session, actor, f"{entity}.update", entity, record_id,
                 {f"custom.{k}": shown(crm, fields[k], current.get(k)) for k in changed},
                 {f"custom.{k}": shown(crm, fields[k], new.get(k)) for k in changed})
    return version


Loader = Callable[[Session], Any]
"""Loads the record in the actor's scope (raising NotFound outside it)."""


def update_custom(crm: Crm, actor: Actor, entity: str, expected_version: int,
                  raw: dict[str, Any], load: Loader) -> int:
    """Save custom values if nobody saved since `expected_version`; returns the new version."""
    fields, clean = check_edit(crm, entity, raw)
    with crm.db.write() as session:
        record = load(session)
        return write_custom(crm, session, actor, entity, record, expected_version, fields, clean)


def pending_changes(session: Session, entity: str, record_id: int) -> dict[str, int]:
    """The record's sensitive fields whose change waits in a pending request (key → id), so a
    form can say so instead of letting the user ask twice."""
    rows = session.execute(select(ApprovalRequest.id, ApprovalRequest.payload).where(
        ApprovalRequest.status == "pending", ApprovalRequest.kind == CHANGE_KIND,
        ApprovalRequest.target_entity == entity,
        ApprovalRequest.target_id == str(record_id))).all()
    out: dict[str, int] = {}
    for request_id, payload in rows:
        key = (payload or {}).get("data", {}).get("field")
        if key:
            out[str(key)] = int(request_id)
    return out


def view_of(crm: Crm, entity: str, load: Loader) -> CustomFieldsView:
    with crm.db.read() as session:
        record = load(session)
        custom, version, record_id = dict(record.custom or {}), record.version, record.id
        pending = pending_changes(session, entity, int(record_id))
    return CustomFieldsView(entity, int(record_id), int(version), values_for(crm, entity, custom),
                            pending)

"""Custom field values on a customer: read for the profile (sensitive ones masked), and
saved through the same optimistic lock as the built-in fields. A sensitive custom field
is encrypted at rest; changing one goes through maker-checker when the policy says so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import update

from crm_tui.domain.customers.scope import load_in_scope
from crm_tui.domain.forms.registry import CustomField, custom_fields, validate_custom
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import Conflict, FieldError, ValidationFailed
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.store.models import Customer
from crm_tui.store.types import utcnow

ENTITY = "customer"


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


def column_of(key: str) -> str:
    return f"custom.{ENTITY}.{key}"


def to_stored(crm: Crm, field: CustomField, value: Any) -> Any:
    """JSON-ready value; ciphertext for a sensitive field."""
    if value is None or value == []:
        return None
    if isinstance(value, Decimal):
        value = str(value)
    elif isinstance(value, date):
        value = value.isoformat()
    if field.spec.sensitive:
        return crm.keys.encrypt(column_of(field.key), str(value))
    return value


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


def plain_value(crm: Crm, field: CustomField, stored: Any) -> Any:
    if stored is not None and field.spec.sensitive:
        return crm.keys.decrypt(column_of(field.key), stored)
    return stored


def values_for(crm: Crm, custom: dict[str, Any] | None) -> tuple[CustomValue, ...]:
    """The active custom fields with this record's values, in form order."""
    custom = custom or {}
    out = []
    for f in custom_fields(crm, ENTITY):
        text = display(plain_value(crm, f, custom.get(f.key)))
        out.append(CustomValue(f.key, f.label_zh, f.label_en, f.help_zh, f.help_en,
                               f.spec.section, f.spec.type, f.spec.choices, f.spec.required,
                               f.spec.sensitive, mask(text) if f.spec.sensitive else text))
    return tuple(out)


def custom_values(crm: Crm, actor: Actor, customer_id: int) -> tuple[CustomValue, ...]:
    require(actor, Perm.CUSTOMER_VIEW)
    with crm.db.read() as session:
        c = load_in_scope(session, actor, customer_id)
        custom = dict(c.custom or {})
    return values_for(crm, custom)


def update_custom_fields(crm: Crm, actor: Actor, customer_id: int, expected_version: int,
                         raw: dict[str, Any]) -> int:
    """Save custom values if nobody saved since `expected_version`; returns the new version.
    Sensitive custom fields cannot be changed here when the policy routes them to approval."""
    require(actor, Perm.CUSTOMER_EDIT)
    fields = {f.key: f for f in custom_fields(crm, ENTITY)}
    refused = [FieldError(k, "validation.sensitive_needs_approval", {})
               for k in raw if k in fields and fields[k].spec.sensitive
               and crm.policy().forms.sensitive_custom_needs_approval]
    if refused:
        raise ValidationFailed(refused)
    clean = validate_custom(crm, ENTITY, raw)
    missing = [FieldError(k, "validation.required", {}) for k, f in fields.items()
               if f.spec.required and k in raw and clean.get(k) in (None, [], "")]
    if missing:
        raise ValidationFailed(missing)
    with crm.db.write() as session:
        c = load_in_scope(session, actor, customer_id)
        current = dict(c.custom or {})
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
            if c.version != expected_version:
                raise Conflict(version=c.version)
            return c.version
        result = session.execute(
            update(Customer)
            .where(Customer.id == customer_id, Customer.version == expected_version)
            .values(custom=new, version=Customer.version + 1, updated_at=utcnow()))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(version=c.version)

        def shown(k: str, store: dict[str, Any]) -> Any:
            value = display(plain_value(crm, fields[k], store.get(k)))
            return mask(value) if fields[k].spec.sensitive else value

        audit.record(crm.db, session, actor, "customer.update", "customer", customer_id,
                     {f"custom.{k}": shown(k, current) for k in changed},
                     {f"custom.{k}": shown(k, new) for k in changed})
        return expected_version + 1


@dataclass(frozen=True)
class CustomFieldsView:
    """The custom values of one customer with the version an edit must name."""

    customer_id: int
    version: int
    values: tuple[CustomValue, ...]


def custom_fields_view(crm: Crm, actor: Actor, customer_id: int) -> CustomFieldsView:
    require(actor, Perm.CUSTOMER_VIEW)
    with crm.db.read() as session:
        c = load_in_scope(session, actor, customer_id)
        custom, version = dict(c.custom or {}), c.version
    return CustomFieldsView(customer_id, version, values_for(crm, custom))

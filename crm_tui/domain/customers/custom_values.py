"""Custom field values on a customer: read for the profile (sensitive ones masked), and
saved through the same optimistic lock as the built-in fields. A sensitive custom field
is encrypted at rest; changing one goes through maker-checker when the policy says so.
The work is the form engine's (`forms.values`); this module says how a customer is loaded
(in the actor's scope) and which permission applies."""

from __future__ import annotations

from typing import Any

from crm_tui.domain.customers.scope import load_in_scope
from crm_tui.domain.forms import values as V
from crm_tui.domain.forms.values import (  # noqa: F401  (the customer-facing names)
    CustomFieldsView,
    CustomValue,
    display,
    mask,
    plain_value,
    to_stored,
)
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.permissions import Perm, require

ENTITY = "customer"


def column_of(key: str) -> str:
    return V.column_of(ENTITY, key)


def values_for(crm: Crm, custom: dict[str, Any] | None) -> tuple[CustomValue, ...]:
    return V.values_for(crm, ENTITY, custom)


def custom_values(crm: Crm, actor: Actor, customer_id: int) -> tuple[CustomValue, ...]:
    return custom_fields_view(crm, actor, customer_id).values


def custom_fields_view(crm: Crm, actor: Actor, customer_id: int) -> CustomFieldsView:
    require(actor, Perm.CUSTOMER_VIEW)
    return V.view_of(crm, ENTITY, lambda s: load_in_scope(s, actor, customer_id))


def update_custom_fields(crm: Crm, actor: Actor, customer_id: int, expected_version: int,
                         raw: dict[str, Any]) -> int:
    """Save custom values if nobody saved since `expected_version`; returns the new version.
    Sensitive custom fields cannot be changed here when the policy routes them to approval."""
    require(actor, Perm.CUSTOMER_EDIT)
    return V.update_custom(crm, actor, ENTITY, expected_version, raw,
                           lambda s: load_in_scope(s, actor, customer_id))

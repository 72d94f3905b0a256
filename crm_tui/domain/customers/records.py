"""Customer records: create one, edit non-sensitive fields (optimistic locking), reveal a
masked value for a stated reason."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from crm_tui.domain.customers.fields import (
    ENTITY,
    SENSITIVE_FIELDS,
    clean_customer,
    customer_row,
    stored_index_matches,
)
from crm_tui.domain.customers.scope import load_in_scope
from crm_tui.domain.customers.tags import evaluate_rule_tags
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel import fields as F
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.conflicts import conflict
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, ValidationFailed
from crm_tui.domain.kernel.masking import MASKERS
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.validation import BadValue, normalise_prose, to_fen
from crm_tui.domain.kernel.versioned import save_versioned
from crm_tui.store.db import retry_transaction
from crm_tui.store.models import Customer

# -- editing ---------------------------------------------------------------------------


def _clean_edit(changes: dict[str, Any], role: str) -> tuple[dict[str, Any], list[FieldError]]:
    """Column values for the changed fields, by their registry declaration: a maker-checker
    field is refused here (it needs a request), so is one the role may not edit."""
    out: dict[str, Any] = {}
    errors: list[FieldError] = []
    for field, raw in changes.items():
        spec = F.find(ENTITY, field)
        if spec is not None and spec.needs_approval:
            errors.append(FieldError(field, "validation.sensitive_needs_approval", {}))
            continue
        if spec is None or role not in spec.editable_by:
            errors.append(FieldError(field, "validation.not_editable", {}))
            continue
        try:
            value = spec.parse(raw)
        except BadValue as exc:
            errors.append(FieldError(field, exc.key, exc.params))
            continue
        if spec.type == "money":
            out[f"{field}_fen"] = to_fen(value)
        else:
            out[field] = value
    return out, errors


@retry_transaction
def update_customer(crm: Crm, actor: Actor, customer_id: int, expected_version: int,
                    changes: dict[str, Any]) -> int:
    """Save non-sensitive fields if nobody saved since `expected_version`; returns the new
    version. Sensitive fields go through maker-checker, never through here."""
    require(actor, Perm.CUSTOMER_EDIT)
    values, errors = _clean_edit(changes, actor.role)
    if errors:
        raise ValidationFailed(errors)
    with crm.db.write() as session:
        c = load_in_scope(session, actor, customer_id)
        before = {k: getattr(c, k) for k in values}
        after = {k: v for k, v in values.items() if before[k] != v}
        if not after:
            if c.version != expected_version:
                raise conflict(session, crm.tz, "customer", customer_id, version=c.version)
            return c.version
        version = save_versioned(
            session, Customer, customer_id, expected_version, after,
            lambda: conflict(session, crm.tz, "customer", customer_id, version=c.version))
        audit.record(crm.db, session, actor, "customer.update", "customer", customer_id,
                     {k: before[k] for k in after}, after)
        return version


def reveal_sensitive(crm: Crm, actor: Actor, customer_id: int, field: str, reason: str) -> str:
    """The plaintext of one sensitive field, for a stated reason, audited (not the value)."""
    require(actor, Perm.SENSITIVE_REVEAL)
    if field not in SENSITIVE_FIELDS:
        raise ValidationFailed([FieldError("field", "validation.choice", {"value": field})])
    reason = normalise_prose(reason)
    if len(reason) < 2:
        raise ValidationFailed([FieldError("reason", "validation.reason_required", {})])
    with crm.db.write() as session:
        c = load_in_scope(session, actor, customer_id)
        value = crm.keys.decrypt(field, getattr(c, f"{field}_enc")) or ""
        audit.record(crm.db, session, actor, "customer.reveal", "customer", customer_id,
                     None, {"field": field, "reason": reason})
    return value


def create_customer(crm: Crm, actor: Actor, raw: dict[str, Any]) -> int:
    """One new customer from a form; the RM defaults to the actor when she is an RM."""
    require(actor, Perm.CUSTOMER_CREATE)
    clean, errors = clean_customer(raw)
    if errors or clean is None:
        raise ValidationFailed(errors)
    with crm.db.write() as session:
        if clean.national_id:
            if session.scalar(select(Customer.id).where(
                    stored_index_matches(crm.keys, "national_id", clean.national_id))):
                raise ValidationFailed([FieldError("national_id", "validation.duplicate_id", {})])
        rm_id = actor.id if actor.role == "rm" else None
        row = customer_row(crm.keys, clean, branch_id=actor.branch_id, rm_id=rm_id)
        c = Customer(**row)
        session.add(c)
        session.flush()
        evaluate_rule_tags(session, crm.policy(), [c.id or 0])
        audit.record(crm.db, session, actor, "customer.create", "customer", c.id, None,
                     {"name": c.name, "national_id": MASKERS["national_id"](clean.national_id)})
        return c.id or 0

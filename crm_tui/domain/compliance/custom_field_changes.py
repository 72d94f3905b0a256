"""Maker-checker for sensitive custom fields (form engine): the new value waits encrypted in
the request; approval writes it into the customer's custom values at the version the maker
saw, or closes the request as stale."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import Session

from crm_tui.domain.compliance import approvals
from crm_tui.domain.compliance.alerts import ensure_not_frozen
from crm_tui.domain.customers.custom_values import ENTITY, column_of, display, mask, to_stored
from crm_tui.domain.customers.scope import load_in_scope
from crm_tui.domain.forms.registry import custom_fields, validate_custom
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import Blocked, FieldError, ValidationFailed
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.validation import normalise_text
from crm_tui.store.models import Customer
from crm_tui.store.models_compliance import ApprovalRequest
from crm_tui.store.types import utcnow

KIND = "custom_field_change"


def request_custom_change(crm: Crm, actor: Actor, customer_id: int, key: str, new_value: str,
                          reason: str, now: datetime | None = None) -> int:
    """Ask for a sensitive custom field to change; returns the request id."""
    require(actor, Perm.SENSITIVE_CHANGE_REQUEST)
    fields = {f.key: f for f in custom_fields(crm, ENTITY)}
    field = fields.get(key)
    if field is None or not field.spec.sensitive:
        raise ValidationFailed([FieldError("field", "compliance.validation.not_sensitive",
                                           {"field": key})])
    reason = normalise_text(reason)
    if not reason:
        raise ValidationFailed([FieldError("reason", "validation.required", {})])
    value = validate_custom(crm, ENTITY, {key: new_value})[key]
    now = now or utcnow()
    with crm.db.write() as session:
        c = load_in_scope(session, actor, customer_id)
        ensure_not_frozen(session, customer_id, crm.tz)
        old_stored = (c.custom or {}).get(key)
        old = crm.keys.decrypt(column_of(key), old_stored) if old_stored else None
        if display(old) == display(value):
            raise ValidationFailed([FieldError(key, "compliance.validation.unchanged", {})])
        if approvals.pending_for_target(session, KIND, "customer", customer_id, {"field": key}):
            raise ValidationFailed([FieldError(key, "compliance.validation.already_pending", {})])
        req = approvals.open_request(
            crm, session, actor, kind=KIND, target_entity="customer", target_id=customer_id,
            target_version=str(c.version),
            levels=crm.policy().approvals.sensitive_change_levels,
            display={"field": key,
                     "summary": ["compliance.summary.sensitive_change",
                                 {"field": field.label_zh, "customer": c.name}],
                     "changes": [[key, mask(display(old)), mask(display(value))]],
                     "evidence": {"reason": reason}},
            data={"field": key, "column": column_of(key), "value_enc": to_stored(crm, field, value)},
            customer_id=customer_id, now=now)
        return req.id or 0


class _Handler:
    def current_version(self, crm: Crm, session: Session, req: ApprovalRequest) -> str:
        return str(session.scalar(select(Customer.version).where(Customer.id == req.customer_id)))

    def check_applicable(self, crm: Crm, session: Session, req: ApprovalRequest,
                         now: datetime) -> None:
        ensure_not_frozen(session, req.customer_id or 0, crm.tz)

    def apply(self, crm: Crm, session: Session, req: ApprovalRequest, actor: Actor,
              now: datetime) -> str:
        data = req.payload["data"]
        expected = int(req.target_version)
        c = session.get(Customer, req.customer_id)
        custom = dict((c.custom if c else None) or {})
        custom[data["field"]] = data["value_enc"]
        result = session.execute(
            update(Customer).where(Customer.id == req.customer_id, Customer.version == expected)
            .values(custom=custom, version=expected + 1, updated_at=now))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Blocked("compliance.error.stale", id=req.id)
        before, after = req.payload["display"]["changes"][0][1:]
        audit.record(crm.db, session, actor, "customer.sensitive_change", "customer",
                     req.customer_id, {f"custom.{data['field']}": before, "version": expected},
                     {f"custom.{data['field']}": after, "version": expected + 1,
                      "request": req.id, "maker": req.maker_name})
        return f"customer:{req.customer_id}:v{expected + 1}"


approvals.register(KIND, _Handler())

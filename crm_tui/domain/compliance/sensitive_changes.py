"""Maker-checker for the customer fields declared `needs_approval` in the field registry
(national ID, phone, bank account, name, risk level; the policy may narrow the list).

Asking never touches the customer: the new value waits in the request (encrypted when the
field is encrypted; shown masked). Approval applies it in one transaction with its audit
event, but only if the customer is still at the version the maker saw; otherwise the
request closes as stale and the maker sees that in her requests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from crm_tui.domain.compliance import approvals
from crm_tui.domain.compliance.alerts import ensure_not_frozen
from crm_tui.domain.compliance.record_changes import RecordChangeHandler
from crm_tui.domain.customers.fields import (
    SENSITIVE_FIELDS,
    name_pinyin,
    parse_approval_value,
    stored_index_matches,
)
from crm_tui.domain.customers.scope import load_in_scope
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, ValidationFailed
from crm_tui.domain.kernel.masking import MASKERS
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.validation import BadValue, require_reason
from crm_tui.store.models import Customer
from crm_tui.store.models_compliance import ApprovalRequest
from crm_tui.store.types import utcnow

KIND = "sensitive_change"


def _shown(field: str, value: str | None) -> str:
    if field in SENSITIVE_FIELDS:
        return MASKERS[field](value)
    return value or ""


def _current(crm: Crm, c: Customer, field: str) -> str | None:
    if field in SENSITIVE_FIELDS:
        return crm.keys.decrypt(field, getattr(c, f"{field}_enc"))
    return getattr(c, field)


def request_change(crm: Crm, actor: Actor, customer_id: int, field: str, new_value: str,
                   reason: str = "", now: datetime | None = None) -> int:
    """Ask for a sensitive field to change; returns the request id. The customer is not
    touched until the request is approved."""
    require(actor, Perm.SENSITIVE_CHANGE_REQUEST)
    policy = crm.policy()
    if field not in policy.approvals.sensitive_fields:
        raise ValidationFailed([FieldError("field", "compliance.validation.not_sensitive",
                                           {"field": field})])
    try:
        reason = require_reason(reason)
    except BadValue as exc:
        raise ValidationFailed([FieldError("reason", exc.key, exc.params)]) from exc
    now = now or utcnow()
    with crm.db.write() as session:
        c = load_in_scope(session, actor, customer_id)
        try:
            value = parse_approval_value(field, new_value, c.id_type)
        except BadValue as exc:
            raise ValidationFailed([FieldError(field, exc.key, exc.params)]) from exc
        ensure_not_frozen(session, customer_id, crm.tz)
        old = _current(crm, c, field)
        if old == value:
            raise ValidationFailed([FieldError(field, "compliance.validation.unchanged", {})])
        if field == "national_id":
            if session.scalar(select(Customer.id).where(
                    stored_index_matches(crm.keys, "national_id", value),
                    Customer.id != customer_id)):
                raise ValidationFailed([FieldError(field, "validation.duplicate_id", {})])
        if approvals.pending_for_target(session, KIND, "customer", customer_id,
                                        {"field": field}):
            raise ValidationFailed([FieldError(field, "compliance.validation.already_pending", {})])
        data: dict[str, Any] = {"field": field}
        if field in SENSITIVE_FIELDS:
            data["value_enc"] = crm.keys.encrypt(field, value)
        else:
            data["value"] = value
        display = {
            "field": field,
            "summary": ["compliance.summary.sensitive_change",
                        {"field": f"@field.{field}", "customer": c.name}],
            "changes": [[field, _shown(field, old), _shown(field, value)]],
            "evidence": {"reason": reason} if reason else {},
        }
        req = approvals.open_request(
            crm, session, actor, kind=KIND, target_entity="customer", target_id=customer_id,
            target_version=str(c.version), levels=policy.approvals.sensitive_change_levels,
            display=display, data=data, customer_id=customer_id, now=now,
        )
        return req.id or 0


def _columns(crm: Crm, field: str, value: str) -> dict[str, Any]:
    if field == "national_id":
        return {"national_id_enc": crm.keys.encrypt(field, value),
                "national_id_bidx": crm.keys.blind_index(field, value)}
    if field == "phone":
        return {"phone_enc": crm.keys.encrypt(field, value),
                "phone_bidx": crm.keys.blind_index(field, value), "phone_last4": value[-4:]}
    if field == "bank_account":
        return {"bank_account_enc": crm.keys.encrypt(field, value),
                "bank_account_bidx": crm.keys.blind_index(field, value)}
    if field == "name":
        full, initials = name_pinyin(value)
        return {"name": value, "name_pinyin": full, "name_initials": initials}
    return {field: value}


class _Handler(RecordChangeHandler):
    def model(self, req: ApprovalRequest) -> Any:
        return Customer

    def record_id(self, req: ApprovalRequest) -> int:
        return req.customer_id or 0

    def columns(self, crm: Crm, session: Session, req: ApprovalRequest) -> dict[str, Any]:
        data = req.payload["data"]
        value = (crm.keys.decrypt(data["field"], data["value_enc"]) if "value_enc" in data
                 else data["value"]) or ""
        return _columns(crm, data["field"], value)

    def audited(self, req: ApprovalRequest) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
        field = req.payload["data"]["field"]
        before, after = req.payload["display"]["changes"][0][1:]
        return "customer.sensitive_change", "customer", {field: before}, {field: after}


approvals.register(KIND, _Handler())

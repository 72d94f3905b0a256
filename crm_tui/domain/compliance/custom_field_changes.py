"""Maker-checker for sensitive custom fields (form engine) on any entity's record: the new
value waits encrypted in the request; approval writes it into the record's custom values at
the version the maker saw, or closes the request as stale (`record_changes`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session

from crm_tui.domain.compliance import approvals
from crm_tui.domain.compliance.alerts import ensure_not_frozen
from crm_tui.domain.compliance.record_changes import RecordChangeHandler
from crm_tui.domain.customers.scope import load_in_scope
from crm_tui.domain.forms.registry import custom_fields, validate_custom
from crm_tui.domain.forms.values import (
    CHANGE_KIND,
    column_of,
    display,
    mask,
    plain_value,
    to_stored,
)
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, ValidationFailed
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.validation import normalise_text
from crm_tui.store.models import Customer
from crm_tui.store.models_compliance import ApprovalRequest
from crm_tui.store.models_sales import Lead, Opportunity
from crm_tui.store.models_service import Ticket
from crm_tui.store.types import utcnow

KIND = CHANGE_KIND
MODELS: dict[str, Any] = {"customer": Customer, "lead": Lead, "opportunity": Opportunity,
                          "ticket": Ticket}


def request_record_change(crm: Crm, actor: Actor, entity: str, record_id: int, key: str,
                          new_value: str, reason: str, load: Callable[[Session], Any], *,
                          customer_id: Callable[[Any], int | None], name: Callable[[Any], str],
                          now: datetime | None = None) -> int:
    """Ask for a sensitive custom field of one record to change; returns the request id.
    `load` reads the record in the actor's scope; `customer_id` and `name` say whose it is."""
    require(actor, Perm.SENSITIVE_CHANGE_REQUEST)
    field = {f.key: f for f in custom_fields(crm, entity)}.get(key)
    if field is None or not field.spec.sensitive:
        raise ValidationFailed([FieldError("field", "compliance.validation.not_sensitive",
                                           {"field": key})])
    reason = normalise_text(reason)
    if not reason:
        raise ValidationFailed([FieldError("reason", "validation.required", {})])
    value = validate_custom(crm, entity, {key: new_value})[key]
    now = now or utcnow()
    with crm.db.write() as session:
        record = load(session)
        owner = customer_id(record)
        if owner is not None:
            ensure_not_frozen(session, owner, crm.tz)
        old = plain_value(crm, field, (record.custom or {}).get(key))
        if display(old) == display(value):
            raise ValidationFailed([FieldError(key, "compliance.validation.unchanged", {})])
        if approvals.pending_for_target(session, KIND, entity, record_id, {"field": key}):
            raise ValidationFailed([FieldError(key, "compliance.validation.already_pending", {})])
        req = approvals.open_request(
            crm, session, actor, kind=KIND, target_entity=entity, target_id=record_id,
            target_version=str(record.version),
            levels=crm.policy().approvals.sensitive_change_levels,
            display={"field": key,
                     "summary": ["compliance.summary.sensitive_change",
                                 {"field": field.label_zh, "customer": name(record)}],
                     "changes": [[key, mask(display(old)), mask(display(value))]],
                     "evidence": {"reason": reason}},
            data={"field": key, "column": column_of(entity, key),
                  "value_enc": to_stored(crm, field, value)},
            customer_id=owner, now=now)
        return req.id or 0


def request_custom_change(crm: Crm, actor: Actor, customer_id: int, key: str, new_value: str,
                          reason: str, now: datetime | None = None) -> int:
    """A customer's sensitive custom field (the profile's request)."""
    return request_record_change(
        crm, actor, "customer", customer_id, key, new_value, reason,
        lambda s: load_in_scope(s, actor, customer_id), customer_id=lambda c: c.id,
        name=lambda c: c.name, now=now)


class _Handler(RecordChangeHandler):
    def model(self, req: ApprovalRequest) -> Any:
        return MODELS[req.target_entity]

    def columns(self, crm: Crm, session: Session, req: ApprovalRequest) -> dict[str, Any]:
        data = req.payload["data"]
        record = session.get(self.model(req), self.record_id(req))
        custom = dict((record.custom if record is not None else None) or {})
        custom[data["field"]] = data["value_enc"]
        return {"custom": custom}

    def audited(self, req: ApprovalRequest) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
        key = f"custom.{req.payload['data']['field']}"
        before, after = req.payload["display"]["changes"][0][1:]
        return f"{req.target_entity}.sensitive_change", req.target_entity, {key: before}, \
            {key: after}


approvals.register(KIND, _Handler())

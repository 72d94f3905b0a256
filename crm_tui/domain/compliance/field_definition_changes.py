"""Field-definition changes through approval, when the policy asks for it
(`forms.definition_changes_need_approval`): adding, editing or retiring a custom field opens
a request for the policy-change levels (compliance) that shows the change in words (before →
after per attribute); approving applies it in the approval's transaction, refused as stale
if the definition changed meanwhile. Without the policy switch the change applies at once,
versioned and audited as always. The CLI and the admin screen call `submit_field_change`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from crm_tui.domain.compliance import approvals
from crm_tui.domain.forms import definitions as D
from crm_tui.domain.forms.registry import forget
from crm_tui.domain.forms.review import describe_change
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, NotFound, ValidationFailed
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.store.models_compliance import ApprovalRequest
from crm_tui.store.models_forms import FieldDefinition

KIND = "field_definition"
CHANGES = ("add", "edit", "retire")


@dataclass(frozen=True)
class Submitted:
    """What became of a submitted change: applied (the new definition) or requested."""

    view: D.FieldView | None = None
    request_id: int | None = None


def _body(view: D.FieldView | None) -> dict[str, Any] | None:
    if view is None:
        return None
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in view.__dict__.items()
            if k not in ("updated_at", "version")}


def _proposed(crm: Crm, change: str, entity: str, key: str, attrs: dict[str, Any]
              ) -> tuple[str, D.FieldView | None, dict[str, Any]]:
    """(normalised key, the definition now, the definition after), checked, nothing stored."""
    if change not in CHANGES:
        raise ValidationFailed([FieldError("change", "validation.choice", {"value": change})])
    if change == "add":
        key, values = D.new_field_input(entity, key, attrs)
        now = D.find_field(crm, entity, key)
        if now is not None and now.status == "active":
            raise ValidationFailed([FieldError("key", "forms.error.exists", {"key": key})])
        return key, now, {**(_body(now) or {"entity": entity, "key": key}),
                          **values.model_dump(), "status": "active"}
    now = D.find_field(crm, entity, key)
    if now is None:
        raise NotFound("forms.error.no_field", entity=entity, key=key)
    if change == "retire":
        return key, now, {**(_body(now) or {}), "status": "retired"}
    values = D.edited_input(now, attrs)
    return key, now, {**(_body(now) or {}), **values.model_dump()}


def submit_field_change(crm: Crm, actor: Actor, change: str, entity: str, key: str,
                        attrs: dict[str, Any] | None = None,
                        now: datetime | None = None) -> Submitted:
    """Apply a definition change now, or open its request when the policy says so."""
    require(actor, Perm.FIELDS_MANAGE)
    attrs = attrs or {}
    if not crm.policy().forms.definition_changes_need_approval:
        if change == "add":
            return Submitted(view=D.add_field(crm, actor, entity, key, **attrs))
        if change == "edit":
            return Submitted(view=D.edit_field(crm, actor, entity, key, **attrs))
        return Submitted(view=D.retire_field(crm, actor, entity, key))
    key, current, after = _proposed(crm, change, entity, key, attrs)
    before = _body(current)
    with crm.db.write() as session:
        target = f"{entity}.{key}"
        if approvals.pending_for_target(session, KIND, "field_definition", target, {}):
            raise ValidationFailed([FieldError("key", "compliance.validation.already_pending", {})])
        req = approvals.open_request(
            crm, session, actor, kind=KIND, target_entity="field_definition", target_id=target,
            target_version=str(current.version if current else 0),
            levels=crm.policy().approvals.policy_change_levels,
            display={"summary": ["compliance.summary.field_definition",
                                 {"field": target, "change": f"@forms_values.change.{change}"}],
                     "changes": [], "before": before, "after": after,
                     "words": [[k, p] for k, p in describe_change(before, after)]},
            data={"change": change, "entity": entity, "key": key, "attrs": attrs}, now=now)
        return Submitted(request_id=req.id or 0)


class _Handler:
    def current_version(self, crm: Crm, session: Session, req: ApprovalRequest) -> str:
        data = req.payload["data"]
        version = session.scalar(select(FieldDefinition.version).where(
            FieldDefinition.entity == data["entity"], FieldDefinition.key == data["key"]))
        return str(version or 0)

    def check_applicable(self, crm: Crm, session: Session, req: ApprovalRequest,
                         now: datetime) -> None:
        return None

    def apply(self, crm: Crm, session: Session, req: ApprovalRequest, actor: Actor,
              now: datetime) -> str:
        data = req.payload["data"]
        entity, key, attrs = data["entity"], data["key"], data["attrs"]
        if data["change"] == "add":
            _, values = D.new_field_input(entity, key, attrs)
            view = D.add_in(crm, session, actor, entity, key, values)
        elif data["change"] == "edit":
            view = D.edit_in(crm, session, actor, entity, key, attrs)
        else:
            view = D.retire_in(crm, session, actor, entity, key)
        forget(crm)
        return f"field:{entity}.{key}:v{view.version}"


approvals.register(KIND, _Handler())

"""The one approval engine: a request climbs ordered levels; each level needs one decision.

State machine of a request::

    pending ──approve (not last level)──▶ pending (next level)
    pending ──approve (last level)──────▶ approved   (the change is applied, same transaction)
    pending ──reject (any level)────────▶ rejected
    pending ──withdraw (maker)──────────▶ withdrawn
    pending ──expiry time passed────────▶ expired
    pending ──target changed since ask──▶ stale      (found when someone tries to approve)

Rules enforced here, stricter than Fineract's maker-checker (where self-checking is a
configuration switch and the target is never re-checked):

- the maker approves no level (and the database refuses a decision row saying otherwise);
- each level needs a person who holds that level's role *now* (the staff row is re-read)
  and sits within the maker's hierarchy: `team` = the maker's team, `branch` = the
  maker's branch, `any` = anywhere;
- one person decides at most one level of a request;
- approving checks the target's version (or hash) against the one taken when the request
  was made; a changed target closes the request as stale and the maker sees why;
- an expired request cannot be approved;
- every step writes an audit event in the same transaction as the step.

Each request kind has a handler (in its own module) that says what the target's version is
now, what blocks applying right now (a freeze, an incomplete KYC file) and how to apply.
Who may decide (place, scope, the reason code when not) is `approval_scope`; the read side
(inbox, history, one request in detail) is `approval_views`.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlmodel import Session

from crm_tui.domain.compliance.approval_scope import Place, actor_ref, place, why_not
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor, system_actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import (
    DomainError,
    FieldError,
    NotFound,
    ValidationFailed,
)
from crm_tui.domain.kernel.messages import label
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.validation import normalise_prose
from crm_tui.domain.policy.document import ApprovalLevelSpec
from crm_tui.domain.workflow.notifications import notify
from crm_tui.store.db import retry_transaction
from crm_tui.store.models import Staff
from crm_tui.store.models_compliance import ApprovalDecision, ApprovalRequest
from crm_tui.store.types import utcnow

MIN_COMMENT = 2


class Stale(DomainError):
    """The target changed after the request was made; the request is closed."""

    key = "compliance.error.stale"


class Expired(DomainError):
    key = "compliance.error.expired"


class NotDecidable(DomainError):
    """The actor may not decide this request (now, or at all)."""

    key = "compliance.error.not_decidable"


# -- kinds ---------------------------------------------------------------------------

class KindHandler(Protocol):
    def current_version(self, crm: Crm, session: Session, req: ApprovalRequest) -> str:
        """The target's version or hash now, to compare with `req.target_version`."""

    def check_applicable(self, crm: Crm, session: Session, req: ApprovalRequest,
                         now: datetime) -> None:
        """Raise a DomainError (e.g. Blocked by a freeze) if approving must wait."""

    def apply(self, crm: Crm, session: Session, req: ApprovalRequest, actor: Actor,
              now: datetime) -> str:
        """Apply the approved change with its audit event; return a result reference."""


_HANDLERS: dict[str, KindHandler] = {}
_KIND_MODULES = {
    "sensitive_change": "crm_tui.domain.compliance.sensitive_changes",
    "suitability_override": "crm_tui.domain.sales.transactions",
    "large_transaction": "crm_tui.domain.sales.transactions",
    "policy_change": "crm_tui.domain.compliance.policy_changes",
    "anonymisation_batch": "crm_tui.domain.privacy.anonymise",  # issue 14 (imported lazily)
    "staff_grant": "crm_tui.domain.compliance.staff_grants",
    "contract_close": "crm_tui.domain.sales.closing",
    "custom_field_change": "crm_tui.domain.compliance.custom_field_changes",
    "field_definition": "crm_tui.domain.compliance.field_definition_changes",
}


def register(kind: str, handler: KindHandler) -> None:
    _HANDLERS[kind] = handler


def handler_for(kind: str) -> KindHandler:
    if kind not in _HANDLERS and kind in _KIND_MODULES:
        importlib.import_module(_KIND_MODULES[kind])
    return _HANDLERS[kind]


# -- making a request ------------------------------------------------------------------

def open_request(
    crm: Crm,
    session: Session,
    maker: Actor,
    *,
    kind: str,
    target_entity: str,
    target_id: Any,
    target_version: str,
    levels: Sequence[ApprovalLevelSpec],
    display: dict[str, Any],
    data: dict[str, Any] | None = None,
    customer_id: int | None = None,
    now: datetime | None = None,
) -> ApprovalRequest:
    """Create a pending request inside the caller's transaction, with its audit event.

    `display` is what people see (summary, masked before/after, evidence) and what the
    audit log records; `data` holds what applying needs (e.g. ciphertext), never shown."""
    if not levels:
        raise ValueError("a request needs at least one level")
    now = now or utcnow()
    maker_place = place(session, maker)
    plan = [{"role": lv.role, "scope": lv.effective_scope} for lv in levels]
    hours = crm.policy().approvals.request_expiry_hours
    req = ApprovalRequest(
        kind=kind, status="pending", maker_id=maker.id, maker_ref=maker_place.ref,
        maker_name=maker.display_name or maker.username, branch_id=maker_place.branch_id,
        team_id=maker_place.team_id, customer_id=customer_id, target_entity=target_entity,
        target_id=str(target_id), target_version=target_version, levels=plan,
        levels_total=len(plan), next_level=0, next_role=plan[0]["role"],
        next_scope=plan[0]["scope"], payload={"display": display, "data": data or {}},
        created_at=now, expires_at=now + timedelta(hours=hours),
    )
    session.add(req)
    session.flush()
    audit.record(crm.db, session, maker, "approval.request", "approval_request", req.id, None,
                 {"kind": kind, "target": f"{target_entity}:{target_id}",
                  "target_version": target_version, "levels": plan, **display})
    notify_deciders(session, req)
    return req


NOTIFY_MAX = 50


def notify_deciders(session: Session, req: ApprovalRequest) -> None:
    """Tell the people who may decide the current level (role and scope) that it waits."""
    q = select(Staff.id).where(Staff.role == req.next_role, Staff.active)  # type: ignore[arg-type]
    if req.next_scope == "team":
        q = q.where(Staff.team_id == req.team_id)
    elif req.next_scope == "branch":
        q = q.where(Staff.branch_id == req.branch_id)
    if req.maker_id is not None:
        q = q.where(Staff.id != req.maker_id)
    for staff_id in session.scalars(q.order_by(Staff.id).limit(NOTIFY_MAX)):
        notify(session, staff_id, "approval_waiting", "notify.approval_waiting",
               {"id": req.id, "kind": f"@compliance.kind.{req.kind}"},
               entity="approval_request", entity_id=req.id,
               dedupe_key=f"approval-wait:{req.id}:{req.next_level}:{staff_id}")


def notify_maker(session: Session, req: ApprovalRequest) -> None:
    """Tell the maker how her request ended."""
    if req.maker_id is not None:
        notify(session, req.maker_id, "approval_closed", "notify.approval_closed",
               {"id": req.id, "kind": f"@compliance.kind.{req.kind}",
                "status": f"@compliance.status.{req.status}"},
               entity="approval_request", entity_id=req.id,
               dedupe_key=f"approval-closed:{req.id}")


def pending_for_target(session: Session, kind: str, target_entity: str, target_id: Any,
                       extra: dict[str, Any] | None = None) -> ApprovalRequest | None:
    """A pending request of `kind` on the same target (to refuse asking twice)."""
    rows = session.scalars(
        select(ApprovalRequest).where(
            ApprovalRequest.status == "pending", ApprovalRequest.kind == kind,
            ApprovalRequest.target_entity == target_entity,
            ApprovalRequest.target_id == str(target_id))
    ).all()
    for row in rows:
        display = row.payload.get("display", {})
        if all(display.get(k) == v for k, v in (extra or {}).items()):
            return row
    return None


# -- deciding ---------------------------------------------------------------------------

def _lock(session: Session, request_id: int) -> ApprovalRequest:
    req = session.scalars(
        select(ApprovalRequest).where(ApprovalRequest.id == request_id).with_for_update()
    ).first()
    if req is None:
        raise NotFound("compliance.error.request_not_found", id=request_id)
    return req


def _close(crm: Crm, session: Session, req: ApprovalRequest, actor: Actor, status: str,
           note: str, action: str, now: datetime, extra: dict[str, Any] | None = None) -> None:
    before = {"status": req.status, "level": req.next_level}
    req.status = status
    req.closed_at = now
    req.outcome_note = note
    req.next_role = None
    req.next_scope = None
    session.add(req)
    audit.record(crm.db, session, actor, action, "approval_request", req.id, before,
                 {"status": status, "note": note, **(extra or {})})
    notify_maker(session, req)


def _check_decider(session: Session, req: ApprovalRequest, actor: Actor) -> Place:
    require(actor, Perm.APPROVAL_DECIDE)
    who = place(session, actor)
    reason = why_not(session, req, who)
    if reason is not None:
        raise NotDecidable(reason, id=req.id, role=label("role", req.next_role)
                           if req.next_role else "")
    return who


def _decision(session: Session, req: ApprovalRequest, who: Place, actor: Actor,
              decision: str, comment: str, now: datetime) -> ApprovalDecision:
    assert who.id is not None  # a system actor never passes APPROVAL_DECIDE
    row = ApprovalDecision(
        request_id=req.id or 0, maker_ref=req.maker_ref, level=req.next_level,
        role=req.next_role or "", decider_id=who.id, decider_ref=who.ref,
        decider_name=actor.display_name or actor.username, decision=decision,
        comment=comment, decided_at=now,
    )
    session.add(row)
    session.flush()
    return row


def _clean_comment(comment: str | None, required: bool) -> str:
    text = normalise_prose(comment)
    if required and len(text) < MIN_COMMENT:
        raise ValidationFailed([FieldError("approval_comment", "compliance.validation.comment_required", {})])
    if len(text) > 1000:
        raise ValidationFailed([FieldError("approval_comment", "validation.too_long", {"max": 1000})])
    return text


@retry_transaction
def approve(crm: Crm, actor: Actor, request_id: int, comment: str = "",
            now: datetime | None = None) -> str:
    """Approve the current level. On the last level the change is applied in the same
    transaction. Returns the new status ("pending" while levels remain, else "approved").
    Raises Expired or Stale (after closing the request) when it is too late."""
    now = now or utcnow()
    text = _clean_comment(comment, required=False)
    late: DomainError | None = None
    applied = False
    status = "pending"
    with crm.db.write() as session:
        req = _lock(session, request_id)
        who = _check_decider(session, req, actor)
        handler = handler_for(req.kind)
        if now >= req.expires_at:
            _close(crm, session, req, actor, "expired", "compliance.outcome.expired",
                   "approval.expire", now)
            late = Expired(id=req.id)
        elif handler.current_version(crm, session, req) != req.target_version:
            _close(crm, session, req, actor, "stale", "compliance.outcome.stale",
                   "approval.stale", now, {"found_by": actor.username})
            late = Stale(id=req.id)
        else:
            handler.check_applicable(crm, session, req, now)
            _decision(session, req, who, actor, "approved", text, now)
            before = {"status": req.status, "level": req.next_level}
            last = req.next_level + 1 >= req.levels_total
            if last:
                req.status = "approved"
                req.closed_at = now
                req.outcome_note = "compliance.outcome.approved"
                req.next_level = req.levels_total
                req.next_role = None
                req.next_scope = None
            else:
                req.next_level += 1
                nxt = req.levels[req.next_level]
                req.next_role, req.next_scope = nxt["role"], nxt["scope"]
            session.add(req)
            audit.record(crm.db, session, actor, "approval.approve", "approval_request",
                         req.id, before, {"level": before["level"], "role": who.role,
                                          "comment": text, "status": req.status})
            if last:
                req.result_ref = handler.apply(crm, session, req, actor, now)
                session.add(req)
                applied = True
                notify_maker(session, req)
            else:
                notify_deciders(session, req)
            status = req.status
    if late is not None:
        raise late
    if applied:
        crm.forget_policy()
    return status


@retry_transaction
def reject(crm: Crm, actor: Actor, request_id: int, comment: str,
           now: datetime | None = None) -> None:
    """Reject at the current level, with a required reason; the request ends here."""
    now = now or utcnow()
    text = _clean_comment(comment, required=True)
    late: DomainError | None = None
    with crm.db.write() as session:
        req = _lock(session, request_id)
        who = _check_decider(session, req, actor)
        if now >= req.expires_at:
            _close(crm, session, req, actor, "expired", "compliance.outcome.expired",
                   "approval.expire", now)
            late = Expired(id=req.id)
        else:
            level = req.next_level
            _decision(session, req, who, actor, "rejected", text, now)
            _close(crm, session, req, actor, "rejected", "compliance.outcome.rejected",
                   "approval.reject", now, {"level": level, "role": who.role, "comment": text})
    if late is not None:
        raise late


def withdraw(crm: Crm, actor: Actor, request_id: int, now: datetime | None = None) -> None:
    """The maker takes back her own pending request."""
    now = now or utcnow()
    with crm.db.write() as session:
        req = _lock(session, request_id)
        if req.maker_ref != actor_ref(actor):
            raise NotDecidable("compliance.error.not_maker", id=req.id)
        if req.status != "pending":
            raise NotDecidable("compliance.error.closed", id=req.id)
        _close(crm, session, req, actor, "withdrawn", "compliance.outcome.withdrawn",
               "approval.withdraw", now)


def expire_due(crm: Crm, now: datetime | None = None, actor: Actor | None = None) -> int:
    """The job: close every pending request whose time is up. Returns how many."""
    now = now or utcnow()
    actor = actor or system_actor("jobs")
    require(actor, Perm.JOBS_RUN)
    count = 0
    while True:
        with crm.db.write() as session:
            rows = session.scalars(
                select(ApprovalRequest).where(ApprovalRequest.status == "pending",
                                              ApprovalRequest.expires_at <= now)
                .order_by(ApprovalRequest.id).limit(500).with_for_update()
            ).all()
            for req in rows:
                _close(crm, session, req, actor, "expired", "compliance.outcome.expired",
                       "approval.expire", now)
        count += len(rows)
        if len(rows) < 500:
            return count


def decided_levels(session: Session, request_id: int) -> int:
    return session.scalar(select(func.count()).select_from(ApprovalDecision).where(
        ApprovalDecision.request_id == request_id, ApprovalDecision.decision == "approved")) or 0

"""Rights requests: the front line records them from the profile, compliance decides them.

A request is `open` until compliance completes it (with an outcome) or refuses it (with a
written reason, which the database also demands). Its deadline comes from the policy
(`privacy.request_deadline_days`, 15 by default). Completing does what the kind means:
an access request needs its copy file made first; a restriction withdraws the named
consents; a deletion restricts the record (it leaves every search, list and send; the
retention clock for anonymisation starts). A correction is made through the ordinary edit
and maker-checker paths; completing it records the outcome. Every step is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from crm_tui.domain.customers.consent import CHANNELS, PURPOSES
from crm_tui.domain.customers.scope import load_in_scope
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.access_log import log_access
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import (
    Blocked,
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from crm_tui.domain.kernel.permissions import Perm, can, customer_scope, require
from crm_tui.domain.kernel.validation import normalise_text
from crm_tui.store.models import AuditEvent, Customer, Staff
from crm_tui.store.models_privacy import ConsentRecord, PrivacyRequest
from crm_tui.store.types import utcnow

KINDS = ("access", "correction", "restriction", "deletion")
STATES = ("open", "completed", "refused")
MIN_REASON = 5
PAGE = 100


@dataclass(frozen=True)
class RequestView:
    id: int
    customer_id: int
    customer_name: str  # "" for roles that see no customer data
    kind: str
    state: str
    detail: str
    purposes: tuple[str, ...]
    channel: str
    opened_by: str
    owner: str
    owner_id: int | None
    opened_at: datetime
    due_at: datetime
    closed_at: datetime | None
    outcome: str
    refusal_reason: str
    overdue: bool
    restricted: bool
    version: int


def _text(field: str, value: str | None, *, minimum: int = 0, maximum: int = 1000) -> str:
    text = normalise_text(value)
    if minimum and len(text) < minimum:
        raise ValidationFailed([FieldError(field, "privacy.validation.reason_required",
                                           {"min": minimum})])
    if len(text) > maximum:
        raise ValidationFailed([FieldError(field, "validation.too_long", {"max": maximum})])
    return text


def open_request(crm: Crm, actor: Actor, customer_id: int, kind: str, *, detail: str = "",
                 purposes: Sequence[str] = (), channel: str = "branch",
                 now: datetime | None = None) -> int:
    """Record a customer's request; the deadline comes from the policy. Returns its id."""
    require(actor, Perm.PRIVACY_REQUEST)
    errors = []
    if kind not in KINDS:
        errors.append(FieldError("privacy_kind", "validation.choice", {"value": kind}))
    if channel not in CHANNELS:
        errors.append(FieldError("channel", "validation.choice", {"value": channel}))
    bad = [p for p in purposes if p not in PURPOSES]
    if bad:
        errors.append(FieldError("purpose", "validation.choice", {"value": bad[0]}))
    if kind == "restriction" and not purposes:
        errors.append(FieldError("purpose", "privacy.validation.purpose_required", {}))
    if errors:
        raise ValidationFailed(errors)
    text = _text("privacy_detail", detail)
    now = now or utcnow()
    days = crm.policy().privacy.request_deadline_days
    with crm.db.write() as session:
        load_in_scope(session, actor, customer_id)
        if session.scalar(select(PrivacyRequest.id).where(
                PrivacyRequest.customer_id == customer_id, PrivacyRequest.kind == kind,
                PrivacyRequest.state == "open")) is not None:
            raise Blocked("privacy.error.duplicate", kind=kind)
        row = PrivacyRequest(customer_id=customer_id, kind=kind, state="open", detail=text,
                             purposes=",".join(dict.fromkeys(purposes)), channel=channel,
                             opened_by=actor.id, owner_id=actor.id, opened_at=now,
                             due_at=now + timedelta(days=days))
        session.add(row)
        session.flush()
        audit.record(crm.db, session, actor, "privacy.request.open", "privacy_request", row.id,
                     None, {"customer_id": customer_id, "kind": kind, "channel": channel,
                            "purposes": row.purposes, "due_at": row.due_at})
        return row.id or 0


def _lock(session: Session, request_id: int) -> PrivacyRequest:
    row = session.scalars(select(PrivacyRequest).where(PrivacyRequest.id == request_id)
                          .with_for_update()).first()
    if row is None:
        raise NotFound("privacy.error.request_not_found", id=request_id)
    return row


def _open_for_decision(session: Session, actor: Actor, request_id: int,
                       version: int | None) -> PrivacyRequest:
    require(actor, Perm.PRIVACY_HANDLE)
    row = _lock(session, request_id)
    if row.state != "open":
        raise Blocked("privacy.error.closed", id=request_id)
    if version is not None and version != row.version:
        raise Conflict()
    return row


def take_request(crm: Crm, actor: Actor, request_id: int) -> None:
    """Compliance takes ownership of an open request."""
    with crm.db.write() as session:
        row = _open_for_decision(session, actor, request_id, None)
        before = row.owner_id
        row.owner_id = actor.id
        row.version += 1
        session.add(row)
        audit.record(crm.db, session, actor, "privacy.request.take", "privacy_request",
                     request_id, {"owner_id": before}, {"owner_id": actor.id})


def copy_made(session: Session, request_id: int) -> bool:
    return session.scalar(select(AuditEvent.id).where(
        AuditEvent.action == "privacy.copy", AuditEvent.entity == "privacy_request",
        AuditEvent.entity_id == str(request_id)).limit(1)) is not None


def _withdraw(crm: Crm, session: Session, actor: Actor, row: PrivacyRequest,
              now: datetime) -> list[str]:
    purposes = [p for p in row.purposes.split(",") if p]
    for purpose in purposes:
        session.add(ConsentRecord(customer_id=row.customer_id, purpose=purpose, granted=False,
                                  notice_version=f"pipl-request-{row.id}"[:30],
                                  channel=row.channel, recorded_by=actor.id, recorded_at=now))
        audit.record(crm.db, session, actor, "consent.withdraw", "customer", row.customer_id,
                     None, {"purpose": purpose, "request_id": row.id, "channel": row.channel})
    return purposes


def complete_request(crm: Crm, actor: Actor, request_id: int, outcome: str, *,
                     version: int | None = None, now: datetime | None = None) -> None:
    """Compliance answers the request; what that does depends on its kind (module doc)."""
    text = _text("privacy_outcome", outcome, minimum=2)
    now = now or utcnow()
    with crm.db.write() as session:
        row = _open_for_decision(session, actor, request_id, version)
        effect: dict[str, object] = {}
        if row.kind == "access" and not copy_made(session, request_id):
            raise Blocked("privacy.error.copy_first", id=request_id)
        if row.kind == "restriction":
            effect["withdrawn"] = _withdraw(crm, session, actor, row, now)
        if row.kind == "deletion":
            customer = session.get(Customer, row.customer_id)
            assert customer is not None  # a foreign key
            if not customer.restricted:
                customer.restricted = True
                customer.version += 1
                customer.updated_at = now
                session.add(customer)
                audit.record(crm.db, session, actor, "customer.restrict", "customer",
                             row.customer_id, {"restricted": False},
                             {"restricted": True, "request_id": row.id})
            effect["restricted"] = True
        row.state, row.outcome, row.closed_at, row.closed_by = "completed", text, now, actor.id
        row.version += 1
        session.add(row)
        audit.record(crm.db, session, actor, "privacy.request.complete", "privacy_request",
                     request_id, {"state": "open"},
                     {"state": "completed", "outcome": text, "kind": row.kind, **effect})


def refuse_request(crm: Crm, actor: Actor, request_id: int, reason: str, *,
                   version: int | None = None, now: datetime | None = None) -> None:
    """Compliance refuses, in writing (PIPL art. 50: the refusal must say why)."""
    text = _text("privacy_refusal", reason, minimum=MIN_REASON)
    now = now or utcnow()
    with crm.db.write() as session:
        row = _open_for_decision(session, actor, request_id, version)
        row.state, row.refusal_reason = "refused", text
        row.closed_at, row.closed_by = now, actor.id
        row.version += 1
        session.add(row)
        audit.record(crm.db, session, actor, "privacy.request.refuse", "privacy_request",
                     request_id, {"state": "open"}, {"state": "refused", "reason": text})


# -- reading ------------------------------------------------------------------------------

_OPENER = aliased(Staff)
_OWNER = aliased(Staff)


def _query(actor: Actor):  # type: ignore[no-untyped-def]
    q = (select(PrivacyRequest, Customer.name, Customer.restricted, _OPENER.display_name,
                _OWNER.display_name)
         .join(Customer, Customer.id == PrivacyRequest.customer_id)
         .outerjoin(_OPENER, _OPENER.id == PrivacyRequest.opened_by)
         .outerjoin(_OWNER, _OWNER.id == PrivacyRequest.owner_id))
    if can(actor, Perm.PRIVACY_HANDLE) or can(actor, Perm.AUDIT_VIEW):
        return q  # compliance (and the auditor at the CLI) see every request
    if can(actor, Perm.PRIVACY_REQUEST):
        return q.where(customer_scope(actor))
    raise PermissionDenied(role=actor.role, action=Perm.PRIVACY_REQUEST.value)


def _view(row, name, restricted, opener, owner, names: bool, now: datetime) -> RequestView:  # type: ignore[no-untyped-def]
    r: PrivacyRequest = row
    return RequestView(
        r.id or 0, r.customer_id, name if names else "", r.kind, r.state, r.detail,
        tuple(p for p in r.purposes.split(",") if p), r.channel, opener or "", owner or "",
        r.owner_id, r.opened_at, r.due_at, r.closed_at, r.outcome, r.refusal_reason,
        r.state == "open" and r.due_at < now, bool(restricted), r.version)


def list_requests(crm: Crm, actor: Actor, *, state: str | None = None,
                  customer_id: int | None = None, before_id: int | None = None,
                  limit: int = PAGE, now: datetime | None = None) -> list[RequestView]:
    """Newest first (keyset by id). Compliance sees every request; the front line those of
    the customers in its book; the auditor without customer access sees them without names."""
    if state is not None and state not in STATES:
        raise ValidationFailed([FieldError("privacy_state", "validation.choice", {"value": state})])
    q = _query(actor).order_by(PrivacyRequest.id.desc()).limit(limit)  # type: ignore[union-attr]
    if state:
        q = q.where(PrivacyRequest.state == state)
    if customer_id is not None:
        q = q.where(PrivacyRequest.customer_id == customer_id)
    if before_id is not None:
        q = q.where(PrivacyRequest.id < before_id)
    names = can(actor, Perm.CUSTOMER_VIEW)
    now = now or utcnow()
    with crm.db.read() as session:
        rows = session.execute(q).all()
    if rows and names:
        log_access(crm.db, actor, "list", ids=[r[0].customer_id for r in rows])
    return [_view(*r, names=names, now=now) for r in rows]


def get_request(crm: Crm, actor: Actor, request_id: int,
                now: datetime | None = None) -> RequestView:
    with crm.db.read() as session:
        found = session.execute(_query(actor).where(PrivacyRequest.id == request_id)).first()
    if found is None:
        raise NotFound("privacy.error.request_not_found", id=request_id)
    return _view(*found, names=can(actor, Perm.CUSTOMER_VIEW), now=now or utcnow())


def count_open(crm: Crm, actor: Actor) -> int | None:
    """The f11 badge: open requests compliance must answer."""
    if not can(actor, Perm.PRIVACY_HANDLE):
        return None
    with crm.db.read() as session:
        return session.scalar(select(func.count()).select_from(PrivacyRequest)
                              .where(PrivacyRequest.state == "open")) or 0

"""Restricted records: out of every search, list, export and send (the scope does that), yet
compliance may open one — only with a written reason, which is audited before anything is
shown, and the opening itself goes to the access log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, select

from crm_tui.domain.customers.profile import get_profile
from crm_tui.domain.customers.views import CustomerView
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import Blocked, FieldError, NotFound, ValidationFailed
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.validation import normalise_text
from crm_tui.store.models import Customer
from crm_tui.store.models_privacy import PrivacyRequest

MIN_REASON = 5


@dataclass(frozen=True)
class RestrictedRow:
    customer_id: int
    name: str
    since: datetime | None  # when the deletion request that restricted it was completed


def open_restricted(crm: Crm, actor: Actor, customer_id: int, reason: str, *,
                    today: date | None = None) -> CustomerView:
    """Compliance's look at a restricted record: the reason is audited first."""
    require(actor, Perm.PRIVACY_HANDLE)
    text = normalise_text(reason)
    if len(text) < MIN_REASON:
        raise ValidationFailed([FieldError("reason", "privacy.validation.reason_required",
                                           {"min": MIN_REASON})])
    if len(text) > 1000:
        raise ValidationFailed([FieldError("reason", "validation.too_long", {"max": 1000})])
    with crm.db.write() as session:
        restricted = session.scalar(select(Customer.restricted).where(Customer.id == customer_id))
        if restricted is None:
            raise NotFound("error.customer_not_found", id=customer_id)
        if not restricted:
            raise Blocked("privacy.error.not_restricted", id=customer_id)
        audit.record(crm.db, session, actor, "privacy.restricted.open", "customer", customer_id,
                     None, {"reason": text})
    return get_profile(crm, actor, customer_id, today=today, include_restricted=True)


def list_restricted(crm: Crm, actor: Actor, *, after_id: int = 0,
                    limit: int = 100) -> list[RestrictedRow]:
    """Restricted records in id order (keyset), for compliance's privacy area."""
    require(actor, Perm.PRIVACY_HANDLE)
    since = (select(func.max(PrivacyRequest.closed_at))
             .where(and_(PrivacyRequest.customer_id == Customer.id,
                         PrivacyRequest.kind == "deletion", PrivacyRequest.state == "completed"))
             .correlate(Customer).scalar_subquery())
    with crm.db.read() as session:
        rows = session.execute(
            select(Customer.id, Customer.name, since)
            .where(Customer.restricted.is_(True), Customer.id > after_id)  # type: ignore[attr-defined]
            .order_by(Customer.id).limit(limit)).all()
    return [RestrictedRow(r[0], r[1], r[2]) for r in rows]

"""The consent ledger: consent per purpose (marketing by SMS or e-mail, sharing with
partners, cross-border transfer), with the privacy-notice version shown, the channel and the
time; a withdrawal is recorded the same way. Everything that sends or shares asks
`has_consent` first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from crm_tui.domain.customers.interactions import CHANNELS as INTERACTION_CHANNELS
from crm_tui.domain.customers.scope import load_in_scope
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, ValidationFailed
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.validation import normalise_text
from crm_tui.store.models_privacy import ConsentRecord
from crm_tui.store.types import utcnow

PURPOSES = ("marketing_sms", "marketing_email", "partner_sharing", "cross_border")
CHANNELS = (*INTERACTION_CHANNELS, "paper")


@dataclass(frozen=True)
class ConsentView:
    purpose: str
    granted: bool
    notice_version: str
    channel: str
    recorded_at: datetime | None


def has_consent(session: Session, customer_id: int, purpose: str) -> bool:
    """Whether the newest record for this purpose is a grant (no record: no consent)."""
    granted = session.scalar(
        select(ConsentRecord.granted)
        .where(ConsentRecord.customer_id == customer_id, ConsentRecord.purpose == purpose)
        .order_by(ConsentRecord.id.desc()).limit(1))  # type: ignore[union-attr]
    return bool(granted)


def consented_clause(customer_id_column, purpose: str):  # type: ignore[no-untyped-def]
    """A WHERE clause for bulk sends: the customer's newest record for `purpose` grants."""
    newest = (select(func.max(ConsentRecord.id))
              .where(ConsentRecord.customer_id == customer_id_column,
                     ConsentRecord.purpose == purpose)
              .correlate_except(ConsentRecord).scalar_subquery())
    return select(ConsentRecord.granted).where(ConsentRecord.id == newest).scalar_subquery().is_(True)


def record_consent(crm: Crm, actor: Actor, customer_id: int, purpose: str, granted: bool, *,
                   notice_version: str, channel: str) -> int:
    """Append a grant or withdrawal for one purpose, audited in the same transaction."""
    require(actor, Perm.INTERACTION_LOG)
    errors = []
    if purpose not in PURPOSES:
        errors.append(FieldError("purpose", "validation.choice", {"value": purpose}))
    if channel not in CHANNELS:
        errors.append(FieldError("channel", "validation.choice", {"value": channel}))
    notice_version = normalise_text(notice_version)
    if not notice_version:
        errors.append(FieldError("notice_version", "validation.required", {}))
    elif len(notice_version) > 30:
        errors.append(FieldError("notice_version", "validation.too_long", {"max": 30}))
    if errors:
        raise ValidationFailed(errors)
    with crm.db.write() as session:
        load_in_scope(session, actor, customer_id)
        row = ConsentRecord(customer_id=customer_id, purpose=purpose, granted=granted,
                            notice_version=notice_version, channel=channel,
                            recorded_by=actor.id, recorded_at=utcnow())
        session.add(row)
        session.flush()
        audit.record(crm.db, session, actor, "consent.grant" if granted else "consent.withdraw",
                     "customer", customer_id, None,
                     {"purpose": purpose, "notice_version": notice_version, "channel": channel})
        return row.id or 0


def current_consents(crm: Crm, actor: Actor, customer_id: int) -> list[ConsentView]:
    """Every purpose with the record in force (or none), for the profile."""
    require(actor, Perm.CUSTOMER_VIEW)
    with crm.db.read() as session:
        load_in_scope(session, actor, customer_id)
        rows = session.scalars(select(ConsentRecord).where(
            ConsentRecord.customer_id == customer_id).order_by(ConsentRecord.id)).all()
    newest = {r.purpose: r for r in rows}
    return [ConsentView(p, newest[p].granted, newest[p].notice_version, newest[p].channel,
                        newest[p].recorded_at) if p in newest
            else ConsentView(p, False, "", "", None) for p in PURPOSES]

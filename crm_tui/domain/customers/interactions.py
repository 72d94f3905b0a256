"""Every touch with a customer, from every channel, with who/when/what/next action."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlmodel import Session

from crm_tui.domain.customers.last_contact import note_contact
from crm_tui.domain.customers.scope import load_in_scope
from crm_tui.domain.customers.views import InteractionView
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, ValidationFailed
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.validation import normalise_prose
from crm_tui.store.models import Interaction, Staff
from crm_tui.store.types import utcnow

SUMMARY_MAX = 2000
"""An interaction summary is a note, not a document: longer text is refused, not cut."""
CHANNELS = ("branch", "phone", "mobile_app", "web", "wechat", "email")


@dataclass(frozen=True)
class NewInteraction:
    channel: str
    subject: str
    summary: str = ""
    next_action: str = ""
    next_action_due: date | None = None
    occurred_at: datetime | None = None  # defaults to now


def _validate(new: NewInteraction, now: datetime) -> list[FieldError]:
    errors = []
    if new.channel not in CHANNELS:
        errors.append(FieldError("channel", "validation.choice", {"value": new.channel}))
    subject = normalise_prose(new.subject)
    if not subject:
        errors.append(FieldError("subject", "validation.required", {}))
    elif len(subject) > 200:
        errors.append(FieldError("subject", "validation.too_long", {"max": 200}))
    if len(new.next_action) > 400:
        errors.append(FieldError("next_action", "validation.too_long", {"max": 400}))
    if len(normalise_prose(new.summary)) > SUMMARY_MAX:
        errors.append(FieldError("summary", "validation.too_long", {"max": SUMMARY_MAX}))
    if new.next_action_due and not normalise_prose(new.next_action):
        errors.append(FieldError("next_action", "validation.required", {}))
    if new.next_action_due and new.next_action_due < now.date() - timedelta(days=1):
        errors.append(FieldError("next_action_due", "validation.date_past", {}))
    if new.occurred_at is not None:
        if new.occurred_at.tzinfo is None:
            errors.append(FieldError("occurred_at", "validation.date", {"value": "?"}))
        elif new.occurred_at > now + timedelta(minutes=5):
            errors.append(FieldError("occurred_at", "validation.date_future", {}))
    return errors


def log_interaction(crm: Crm, actor: Actor, customer_id: int, new: NewInteraction) -> int:
    require(actor, Perm.INTERACTION_LOG)
    now = utcnow()
    errors = _validate(new, now)
    if errors:
        raise ValidationFailed(errors)
    with crm.db.write() as session:
        load_in_scope(session, actor, customer_id)
        row = Interaction(
            customer_id=customer_id, staff_id=actor.id, channel=new.channel,
            occurred_at=new.occurred_at or now, subject=normalise_prose(new.subject),
            summary=normalise_prose(new.summary), next_action=normalise_prose(new.next_action),
            next_action_due=new.next_action_due,
        )
        session.add(row)
        session.flush()
        note_contact(session, customer_id, row.occurred_at)
        audit.record(crm.db, session, actor, "interaction.log", "customer", customer_id, None,
                     {"interaction_id": row.id, "channel": row.channel, "subject": row.subject})
        _stop_lead_clocks(crm, session, actor, customer_id, row.occurred_at)
        return row.id or 0


def _stop_lead_clocks(crm: Crm, session: Session, actor: Actor, customer_id: int,
                      at: datetime) -> None:
    """A contact with a customer is the first contact of her open leads (issue 9): the
    first-contact clock stops and the lead's contact task is cancelled."""
    from crm_tui.domain.workflow.tasks import cancel_tasks
    from crm_tui.store.models_sales import Lead

    leads = session.scalars(select(Lead).where(
        Lead.customer_id == customer_id, Lead.first_contact_at.is_(None),  # type: ignore[union-attr]
        Lead.status.in_(("new", "assigned")))).all()  # type: ignore[attr-defined]
    for lead in leads:
        lead.first_contact_at = at
        lead.status = "contacted" if lead.owner_id is not None else lead.status
        lead.version += 1
        session.add(lead)
        cancel_tasks(crm.db, session, actor, entity="lead", entity_id=lead.id or 0,
                     kind="lead_contact")
        audit.record(crm.db, session, actor, "lead.contact", "lead", lead.id, None,
                     {"first_contact_at": at, "interaction": True})


def interaction_page(
    session: Session, customer_id: int, *, limit: int = 50,
    before: tuple[datetime, int] | None = None,
) -> tuple[tuple[InteractionView, ...], bool]:
    """Newest first, keyset-paged on (occurred_at, id); also says whether more remain."""
    q = (
        select(Interaction.id, Interaction.occurred_at, Interaction.channel, Staff.display_name,
               Interaction.subject, Interaction.summary, Interaction.next_action,
               Interaction.next_action_due)
        .outerjoin(Staff, Staff.id == Interaction.staff_id)
        .where(Interaction.customer_id == customer_id)
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())  # type: ignore[attr-defined]
        .limit(limit + 1)
    )
    if before is not None:
        q = q.where(or_(Interaction.occurred_at < before[0],
                        and_(Interaction.occurred_at == before[0], Interaction.id < before[1])))
    rows = session.execute(q).all()
    views = tuple(InteractionView(r[0], r[1], r[2], r[3] or "", r[4], r[5], r[6], r[7])
                  for r in rows[:limit])
    return views, len(rows) > limit


def list_interactions(crm: Crm, actor: Actor, customer_id: int, *, limit: int = 50,
                      before: tuple[datetime, int] | None = None,
                      ) -> tuple[tuple[InteractionView, ...], bool]:
    require(actor, Perm.CUSTOMER_VIEW)
    with crm.db.read() as session:
        load_in_scope(session, actor, customer_id)
        return interaction_page(session, customer_id, limit=limit, before=before)

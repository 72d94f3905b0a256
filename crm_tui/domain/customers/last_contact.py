"""A customer's last contact, kept on the customer row so search can rank by it without
reading interactions: moved forward in the transaction that logs each interaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlmodel import Session

from crm_tui.store.models import Customer, Interaction


def note_contact(session: Session, customer_id: int, at: datetime) -> None:
    """Record a contact at `at`; an older contact logged late never moves it back."""
    session.execute(
        update(Customer)
        .where(Customer.id == customer_id,  # type: ignore[arg-type]
               or_(Customer.last_contact_at.is_(None),  # type: ignore[union-attr]
                   Customer.last_contact_at < at))  # type: ignore[operator]
        .values(last_contact_at=at)
        .execution_options(synchronize_session=False))


def refresh_last_contacts(session: Session) -> None:
    """Every customer's last contact from her interactions (after a bulk load)."""
    latest = (select(func.max(Interaction.occurred_at))
              .where(Interaction.customer_id == Customer.id)
              .scalar_subquery())
    session.execute(update(Customer).values(last_contact_at=latest)
                    .execution_options(synchronize_session=False))

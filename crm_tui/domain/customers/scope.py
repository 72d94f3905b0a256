"""The record-scope guard every customer write and read goes through."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import NotFound
from crm_tui.domain.kernel.permissions import Perm, customer_scope, require
from crm_tui.store.models import Customer


def load_in_scope(session: Session, actor: Actor, customer_id: int, *,
                  include_restricted: bool = False) -> Customer:
    """The customer, or NotFound when it does not exist or lies outside the actor's book
    (a restricted record lies outside every book but compliance's, when asked)."""
    row = session.scalars(
        select(Customer).where(Customer.id == customer_id,
                               customer_scope(actor, include_restricted=include_restricted))
    ).first()
    if row is None:
        raise NotFound("error.customer_not_found", id=customer_id)
    return row


def count_in_scope(crm: Crm, actor: Actor) -> int:
    require(actor, Perm.CUSTOMER_VIEW)
    with crm.db.read() as session:
        return session.scalar(select(func.count()).select_from(Customer)
                              .where(customer_scope(actor))) or 0

"""Sessions that outlive their rights: an Actor signed in with a staff row's status, role and
session epoch; every audited change re-reads that row in its own transaction (kernel.audit
calls `check_actor`), and screens check before each call (`verify_session`), so a disable,
a role change or a password reset takes effect on the next action.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.errors import DomainError
from crm_tui.store.models import Staff


class SessionRevoked(DomainError):
    """The signed-in staff member lost the rights this session was opened with."""

    key = "session.revoked.generic"


def check_actor(session: Any, actor: Actor) -> None:
    """Refuse a stale actor. System actors (id None: the CLI operator, jobs) are not sessions."""
    if actor.id is None or actor.session_epoch is None:
        return
    row = session.execute(select(Staff.active, Staff.role, Staff.session_epoch)
                          .where(Staff.id == actor.id)).first()
    if row is None or not row[0]:
        raise SessionRevoked("session.revoked.disabled", username=actor.username)
    if row[1] != actor.role:
        raise SessionRevoked("session.revoked.role_changed", username=actor.username,
                             role=row[1])
    if row[2] != actor.session_epoch:
        raise SessionRevoked("session.revoked.epoch", username=actor.username)


def verify_session(crm: Any, actor: Actor) -> None:
    """The same check in a short read, for calls that only read (screens call it first)."""
    if actor.id is None or actor.session_epoch is None:
        return
    with crm.db.read() as session:
        check_actor(session, actor)

"""Bringing a database to life: migrate, record the default policy, first admin."""

from __future__ import annotations

from sqlalchemy import func, select

from crm_tui.domain.kernel import audit, seals
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.policy.document import activate_policy, default_policy_text
from crm_tui.store.migrate import upgrade
from crm_tui.store.models import PolicyVersion, Staff
from crm_tui.store.models_trust import RowSeal


def migrate(crm: Crm) -> tuple[int, int]:
    upgrade(crm.db.write_engine)
    return bring_trust_forward(crm)


def bring_trust_forward(crm: Crm) -> tuple[int, int]:
    """After an upgrade from a version before keyed audit MACs and row seals: re-key the old
    events (their unkeyed chain is checked first) and seal the rows as they are now.
    Returns (events re-keyed, rows sealed); (0, 0) when there is nothing to do."""
    events = audit.rekey_legacy(crm.db)
    rows = 0
    with crm.db.read() as session:
        unsealed = not session.scalar(select(func.count()).select_from(RowSeal)) and (
            session.scalar(select(func.count()).select_from(Staff)))
    if unsealed:
        rows = seals.seal_all(crm.db)
    return events, rows


def init_database(crm: Crm, actor: Actor) -> bool:
    """Migrate, and on a fresh database record the shipped policy. True if it was fresh."""
    migrate(crm)
    with crm.db.write() as session:
        if session.scalar(select(func.count()).select_from(PolicyVersion)):
            return False
        activate_policy(crm.db, session, actor, default_policy_text())
        audit.record(crm.db, session, actor, "db.init", "database", "", None,
                     {"policy": "default"})
    crm.forget_policy()
    return True


def has_staff(crm: Crm) -> bool:
    with crm.db.read() as session:
        return bool(session.scalar(select(func.count()).select_from(Staff)))

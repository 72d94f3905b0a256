"""The words for an optimistic-lock conflict: who saved the record last, and when.

The audit log already knows (every change writes its event in the same transaction), so a
losing writer is told "changed by 王芳 (rm1) at 2026-12-01 14:03:12 — reload" instead of a
bare version number.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from crm_tui.domain.kernel.errors import Conflict
from crm_tui.store.models import AuditEvent, Staff


def conflict(session: Session, tz: ZoneInfo, entity: str, entity_id: Any, **params: Any) -> Conflict:
    row = session.execute(
        select(AuditEvent.actor_name, AuditEvent.at, Staff.display_name)
        .outerjoin(Staff, Staff.id == AuditEvent.actor_id)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id))
        .order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    if row is None:
        return Conflict(**params)
    username, at, display = row
    who = f"{display} ({username})" if display and display != username else username
    return Conflict("error.conflict_by", who=who,
                    at=at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"), **params)

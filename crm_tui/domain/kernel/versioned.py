"""The one optimistic-lock write: UPDATE … WHERE id = ? AND version = expected.

Every record two people can edit carries a `version`; a save names the version it read and
bumps it, or fails with the caller's conflict error (who saved last, when) when somebody
saved in between. Customers' built-in fields, custom values on every entity and approved
maker-checker changes all write through here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import update
from sqlmodel import Session

from crm_tui.store.types import utcnow


def save_versioned(session: Session, model: Any, record_id: int, expected_version: int,
                   values: dict[str, Any], conflict: Callable[[], Exception]) -> int:
    """Write `values` if the row is still at `expected_version`; returns the new version."""
    extra: dict[str, Any] = {"version": expected_version + 1}
    if "updated_at" in model.__table__.columns and "updated_at" not in values:
        extra["updated_at"] = utcnow()
    result = session.execute(
        update(model).where(model.id == record_id, model.version == expected_version)
        .values(**values, **extra))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise conflict()
    return expected_version + 1

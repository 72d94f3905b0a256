"""Work that reaches a person: notifications (the notification centre) and tasks (My day).

Every area writes here: approvals and alerts notify, lead SLAs, reviews, care calls, tickets
and maturities become tasks. A `dedupe_key` makes each job's output idempotent: running the
same job twice for the same moment inserts nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from crm_tui.store.types import UTCDateTime, utcnow


class Notification(SQLModel, table=True):
    __table_args__ = (
        Index("ix_notification_inbox", "staff_id", "read_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id")
    kind: str = Field(max_length=40)
    message_key: str = Field(max_length=80)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    entity: str | None = Field(default=None, max_length=40)
    entity_id: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)
    dedupe_key: str | None = Field(default=None, max_length=160, unique=True)


class Task(SQLModel, table=True):
    __table_args__ = (
        Index("ix_task_owner_open", "owner_id", "status", "due_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="staff.id")
    kind: str = Field(max_length=40)
    title_key: str = Field(max_length=80)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    entity: str | None = Field(default=None, max_length=40)
    entity_id: int | None = Field(default=None)
    due_at: datetime = Field(sa_type=UTCDateTime(), nullable=False)
    status: str = Field(default="open", max_length=12)  # open | done | cancelled
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)
    done_by: int | None = Field(default=None, foreign_key="staff.id")
    note: str | None = Field(default=None, max_length=2000)
    dedupe_key: str | None = Field(default=None, max_length=160, unique=True)

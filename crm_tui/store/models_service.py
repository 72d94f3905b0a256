"""The service desk's tables: tickets and their SLA clocks, complaints, the outbox.

Periodic reviews and care calls are tasks (models_workflow.Task) with a dedupe key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, Text, text
from sqlmodel import Field, SQLModel

from crm_tui.store.types import UTCDateTime, utcnow


def _at(nullable: bool = True) -> datetime | None:
    return Field(default=None, sa_type=UTCDateTime(), nullable=nullable)  # type: ignore[no-any-return]


class Ticket(SQLModel, table=True):
    """One service request. `next_due_at` is the deadline that breaches next (first
    response, then resolution); NULL once resolved or closed, so the queue's keyset walk
    over (scope, next_due_at, id) only ever reads open tickets."""

    __table_args__ = (
        Index("ix_ticket_branch_due", "branch_id", "next_due_at", "id"),
        Index("ix_ticket_assignee_due", "assignee_id", "next_due_at", "id"),
        Index("ix_ticket_team_due", "team_id", "next_due_at", "id"),
        Index("ix_ticket_queue_due", "queue", "next_due_at", "id"),
        Index("ix_ticket_due", "next_due_at", "id"),
        Index("ix_ticket_customer", "customer_id", "id"),
        CheckConstraint("csat IS NULL OR (csat >= 1 AND csat <= 5)", name="ck_ticket_csat"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    branch_id: int | None = Field(default=None, foreign_key="branch.id")
    type: str = Field(max_length=20)
    priority: str = Field(max_length=10)
    state: str = Field(default="new", max_length=20)
    queue: str = Field(max_length=40)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    assignee_id: int | None = Field(default=None, foreign_key="staff.id")
    subject: str = Field(max_length=200)
    description: str = Field(default="", sa_type=Text())
    channel: str = Field(default="branch", max_length=20)
    created_by: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    first_response_due: datetime = Field(sa_type=UTCDateTime(), nullable=False)
    resolution_due: datetime = Field(sa_type=UTCDateTime(), nullable=False)
    next_due_at: datetime | None = _at()
    first_response_at: datetime | None = _at()
    paused_at: datetime | None = _at()
    resolved_at: datetime | None = _at()
    closed_at: datetime | None = _at()
    resolution_note: str = Field(default="", max_length=2000)
    breached: bool = Field(default=False)
    escalated_at: datetime | None = _at()
    reopened: int = Field(default=0)
    csat: int | None = Field(default=None)
    first_contact_resolution: bool | None = Field(default=None)
    version: int = Field(default=1, nullable=False)
    custom: dict[str, Any] = Field(default_factory=dict, sa_column=Column(
        JSON, nullable=False, default=dict, server_default=text("'{}'")))
    """Custom field values (form engine), keyed by field key, as on `customer.custom`."""


class Complaint(SQLModel, table=True):
    """The closed loop of one complaint ticket; each step's time and owner, in order."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", unique=True)
    step: str = Field(default="received", max_length=20)
    due_at: datetime = Field(sa_type=UTCDateTime(), nullable=False)
    received_at: datetime = Field(sa_type=UTCDateTime(), nullable=False)
    received_by: int | None = Field(default=None, foreign_key="staff.id")
    level: str | None = Field(default=None, max_length=20)
    graded_at: datetime | None = _at()
    graded_by: int | None = Field(default=None, foreign_key="staff.id")
    investigator_id: int | None = Field(default=None, foreign_key="staff.id")
    findings: str = Field(default="", max_length=2000)
    investigated_at: datetime | None = _at()
    investigated_by: int | None = Field(default=None, foreign_key="staff.id")
    remedy: str = Field(default="", max_length=2000)
    resolved_at: datetime | None = _at()
    resolved_by: int | None = Field(default=None, foreign_key="staff.id")
    feedback: str = Field(default="", max_length=2000)
    satisfied: bool | None = Field(default=None)
    feedback_at: datetime | None = _at()
    feedback_by: int | None = Field(default=None, foreign_key="staff.id")
    root_cause: str = Field(default="", max_length=2000)
    corrective_action: str = Field(default="", max_length=2000)
    action_owner_id: int | None = Field(default=None, foreign_key="staff.id")
    reviewed_at: datetime | None = _at()
    reviewed_by: int | None = Field(default=None, foreign_key="staff.id")


class OutboxMessage(SQLModel, table=True):
    """A message waiting to go out. States: queued → sending → sent, or → retry (with
    `next_attempt_at`) → … → failed after the policy's attempts. A row is claimed by
    moving it to `sending` in its own transaction, so no two senders send it; the
    `dedupe_key` keeps a trigger from queueing the same greeting twice."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_due", "state", "next_attempt_at", "id"),
        Index("ix_outbox_customer", "customer_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=10)  # sms | email
    customer_id: int = Field(foreign_key="customer.id")
    trigger: str = Field(max_length=40)  # birthday | anniversary | holiday:<name> | ...
    subject: str = Field(default="", max_length=200)
    body: str = Field(sa_type=Text())
    state: str = Field(default="queued", max_length=10)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime(), nullable=False)
    last_error: str = Field(default="", max_length=400)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    sent_at: datetime | None = _at()
    dedupe_key: str = Field(max_length=160, unique=True)

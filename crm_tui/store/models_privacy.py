"""Personal-information rights (PIPL): the consent ledger, and (as they arrive) rights
requests, the access log and retention."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_tui.store.types import UTCDateTime, utcnow


class ConsentRecord(SQLModel, table=True):
    """One grant or withdrawal of consent for one purpose; the newest row per (customer,
    purpose) is in force. Append-only: a withdrawal is a new row, never an update."""

    __tablename__ = "consent_record"
    __table_args__ = (Index("ix_consent_customer_purpose", "customer_id", "purpose", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    purpose: str = Field(max_length=30)
    granted: bool
    notice_version: str = Field(max_length=30)
    channel: str = Field(max_length=20)
    recorded_by: int | None = Field(default=None, foreign_key="staff.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)


class PrivacyRequest(SQLModel, table=True):
    """A customer's request under PIPL (access and copy, correction, restriction, deletion):
    who recorded it, who owns it, the deadline the policy gave it, its state and outcome.
    A refusal carries its written reason."""

    __tablename__ = "privacy_request"
    __table_args__ = (
        Index("ix_privacy_request_state_due", "state", "due_at", "id"),
        Index("ix_privacy_request_customer", "customer_id", "id"),
        CheckConstraint("kind IN ('access','correction','restriction','deletion')",
                        name="ck_privacy_request_kind"),
        CheckConstraint("state IN ('open','completed','refused')", name="ck_privacy_request_state"),
        CheckConstraint("state <> 'refused' OR refusal_reason <> ''",
                        name="ck_privacy_request_refusal_reason"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    kind: str = Field(max_length=20)
    state: str = Field(default="open", max_length=20)
    detail: str = Field(default="", max_length=1000)
    purposes: str = Field(default="", max_length=200)
    """For a restriction: the consent purposes withdrawn, comma-separated."""
    channel: str = Field(default="branch", max_length=20)
    opened_by: int | None = Field(default=None, foreign_key="staff.id")
    owner_id: int | None = Field(default=None, foreign_key="staff.id")
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    due_at: datetime = Field(sa_type=UTCDateTime(), nullable=False)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)
    closed_by: int | None = Field(default=None, foreign_key="staff.id")
    outcome: str = Field(default="", max_length=1000)
    refusal_reason: str = Field(default="", max_length=1000)
    version: int = Field(default=1, nullable=False)


class AccessLog(SQLModel, table=True):
    """Who looked at whom: one compact, append-only row per profile open, list, search or
    export (never one per row shown). `customer_id` names a single record; a list keeps its
    count and the ids on the page it showed (`ids`, ",1,2,3,")."""

    __tablename__ = "access_log"
    __table_args__ = (
        Index("ix_access_log_customer_time", "customer_id", "at"),
        Index("ix_access_log_staff_time", "staff_name", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    staff_id: int | None = Field(default=None)
    staff_name: str = Field(max_length=100)
    action: str = Field(max_length=20)
    customer_id: int | None = Field(default=None)
    count: int = Field(default=1)
    ids: str = Field(default="", max_length=1000)
    terminal: str = Field(default="", max_length=100)


class AnonymisationBatch(SQLModel, table=True):
    """A set of (customer, data category) pairs whose retention ended, waiting for compliance
    to approve (through the approval engine) before they are anonymised."""

    __tablename__ = "anonymisation_batch"
    __table_args__ = (
        CheckConstraint("state IN ('pending','applied','rejected')",
                        name="ck_anonymisation_batch_state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(default="pending", max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    as_of: datetime = Field(sa_type=UTCDateTime(), nullable=False)
    items: int = Field(default=0)
    approval_id: int | None = Field(default=None, foreign_key="approval_request.id")
    applied_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)


class AnonymisationItem(SQLModel, table=True):
    __tablename__ = "anonymisation_item"
    __table_args__ = (
        UniqueConstraint("customer_id", "category", "batch_id", name="uq_anonymisation_item"),
        Index("ix_anonymisation_item_customer", "customer_id", "category"),
    )

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="anonymisation_batch.id", index=True)
    customer_id: int = Field(foreign_key="customer.id")
    category: str = Field(max_length=20)
    since: datetime = Field(sa_type=UTCDateTime(), nullable=False)
    """When the retention period started (end of relationship or a deletion request)."""

"""Personal-information rights (PIPL): the consent ledger, and (as they arrive) rights
requests, the access log and retention."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
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

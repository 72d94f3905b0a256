"""Reporting: sales targets (set by a branch head or `crm targets set`) and saved report
definitions (the report engine)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_tui.store.types import UTCDateTime, utcnow


class SalesTarget(SQLModel, table=True):
    """A subscription target for one RM or one team in one period (`2026-Q3`, `2026-11`)."""

    __tablename__ = "sales_target"
    __table_args__ = (
        UniqueConstraint("period", "staff_id", "team_id", name="uq_sales_target"),
        CheckConstraint("(staff_id IS NULL) <> (team_id IS NULL)", name="ck_sales_target_who"),
        CheckConstraint("amount_fen > 0", name="ck_sales_target_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(max_length=7)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    team_id: int | None = Field(default=None, foreign_key="team.id")
    amount_fen: int = Field(sa_type=BigInteger(), nullable=False)
    set_by: str = Field(max_length=100)
    set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)


class SavedReport(SQLModel, table=True):
    """A report definition (entity, filters, group-by, measures) kept as its TOML text;
    `version` refuses the second of two concurrent edits."""

    __tablename__ = "saved_report"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, unique=True)
    body: str = Field(sa_type=Text())
    created_by: str = Field(max_length=100)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    version: int = Field(default=1, nullable=False, sa_column_kwargs={"server_default": "1"})

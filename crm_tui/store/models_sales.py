"""The sales pipeline's tables: leads, opportunities and their stage history, questionnaires, proposals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Index, Text, text
from sqlmodel import Field, SQLModel

from crm_tui.store.types import UTCDateTime, utcnow


class Lead(SQLModel, table=True):
    """A prospect before it is a customer. Phone and ID are sealed like a customer's."""

    __table_args__ = (
        Index("ix_lead_owner_status", "owner_id", "status", "id"),
        Index("ix_lead_branch_status", "branch_id", "status", "id"),
        Index("ix_lead_sla", "first_contact_at", "breached_at", "first_contact_due"),
        CheckConstraint("estimated_assets_fen >= 0", name="ck_lead_assets_nonneg"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=20)  # campaign | web | referral | walk_in
    name: str = Field(max_length=100)
    phone_enc: str | None = Field(default=None, sa_type=Text())
    phone_bidx: str | None = Field(default=None, max_length=64, index=True)
    phone_last4: str | None = Field(default=None, max_length=4)
    national_id_enc: str | None = Field(default=None, sa_type=Text())
    national_id_bidx: str | None = Field(default=None, max_length=64, index=True)
    branch_id: int | None = Field(default=None, foreign_key="branch.id")
    region: str = Field(default="", max_length=50)
    estimated_assets_fen: int = Field(default=0, sa_type=BigInteger(), nullable=False)
    product_interest: str = Field(default="", max_length=30)
    note: str = Field(default="", max_length=1000)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    owner_id: int | None = Field(default=None, foreign_key="staff.id")
    status: str = Field(default="new", max_length=20)
    """new (unassigned) | assigned | contacted | converted | disqualified"""
    assignment_rule: str = Field(default="", max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    assigned_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)
    first_contact_due: datetime = Field(sa_type=UTCDateTime(), nullable=False)
    first_contact_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)
    breached_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)
    version: int = Field(default=1, nullable=False)
    custom: dict[str, Any] = Field(default_factory=dict, sa_column=Column(
        JSON, nullable=False, default=dict, server_default=text("'{}'")))
    """Custom field values (form engine), keyed by field key, as on `customer.custom`."""


class AssignmentCursor(SQLModel, table=True):
    """Round-robin position per team, in the database so every process shares it."""

    __tablename__ = "assignment_cursor"
    team_id: int = Field(foreign_key="team.id", primary_key=True)
    last_staff_id: int = Field(default=0)


class SalesQuestionnaire(SQLModel, table=True):
    """One submitted questionnaire (needs or risk); each submission is a new version."""

    __tablename__ = "sales_questionnaire"
    __table_args__ = (Index("ix_questionnaire_subject", "customer_id", "lead_id", "kind", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # needs | risk
    lead_id: int | None = Field(default=None, foreign_key="lead.id")
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    version: int = Field(default=1)
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    score: int | None = Field(default=None)
    level: str | None = Field(default=None, max_length=2)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    created_by: int | None = Field(default=None, foreign_key="staff.id")


class Opportunity(SQLModel, table=True):
    # Each board index leads with its scope (owner, team, branch), then the column's order;
    # amount_fen at the end makes the per-column count and total an index-only scan.
    __table_args__ = (
        Index("ix_opportunity_owner_board", "owner_id", "stage", "stage_entered_at", "id",
              "amount_fen"),
        Index("ix_opportunity_team_board", "team_id", "stage", "stage_entered_at", "id",
              "amount_fen"),
        Index("ix_opportunity_branch_board", "branch_id", "stage", "stage_entered_at", "id",
              "amount_fen"),
        Index("ix_opportunity_stage_board", "stage", "stage_entered_at", "id"),
        CheckConstraint("amount_fen >= 0", name="ck_opportunity_amount_nonneg"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    lead_id: int | None = Field(default=None, foreign_key="lead.id")
    owner_id: int = Field(foreign_key="staff.id")
    team_id: int | None = Field(default=None, foreign_key="team.id")
    branch_id: int | None = Field(default=None, foreign_key="branch.id")
    stage: str = Field(max_length=12)  # needs | matching | proposal | closing | won | lost
    product_id: int | None = Field(default=None, foreign_key="product.id")
    amount_fen: int = Field(default=0, sa_type=BigInteger(), nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    stage_entered_at: datetime = Field(sa_type=UTCDateTime(), nullable=False)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)
    lost_reason: str | None = Field(default=None, max_length=40)
    close_request_id: int | None = Field(default=None)
    contract_text: str | None = Field(default=None, sa_type=Text())
    result_ref: str | None = Field(default=None, max_length=64)
    version: int = Field(default=1, nullable=False)
    custom: dict[str, Any] = Field(default_factory=dict, sa_column=Column(
        JSON, nullable=False, default=dict, server_default=text("'{}'")))
    """Custom field values (form engine), keyed by field key, as on `customer.custom`."""


class OpportunityStageEvent(SQLModel, table=True):
    """Every stage change with its time: conversion per stage and close cycle read this."""

    __tablename__ = "opportunity_stage_event"
    __table_args__ = (Index("ix_stage_event_opportunity", "opportunity_id", "at"),
                      Index("ix_stage_event_to_at", "to_stage", "at"))

    id: int | None = Field(default=None, primary_key=True)
    opportunity_id: int = Field(foreign_key="opportunity.id")
    from_stage: str | None = Field(default=None, max_length=12)
    to_stage: str = Field(max_length=12)
    at: datetime = Field(sa_type=UTCDateTime(), nullable=False)
    actor: str = Field(max_length=100)
    actor_id: int | None = Field(default=None, foreign_key="staff.id")


class OpportunityProposal(SQLModel, table=True):
    """A rendered proposal (Markdown and HTML) with the customer's feedback on presenting it."""

    __tablename__ = "opportunity_proposal"
    id: int | None = Field(default=None, primary_key=True)
    opportunity_id: int = Field(foreign_key="opportunity.id", index=True)
    version: int = Field(default=1)
    markdown: str = Field(sa_type=Text())
    html: str = Field(sa_type=Text())
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    created_by: int | None = Field(default=None, foreign_key="staff.id")
    presented_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)
    reaction: str | None = Field(default=None, max_length=12)  # positive | neutral | negative
    feedback: str | None = Field(default=None, max_length=1000)


class OpportunityLine(SQLModel, table=True):
    """One product of a proposal: its amount (the opportunity's amount is their total, its
    product the first line's, for the board and the lists)."""

    __tablename__ = "opportunity_line"
    __table_args__ = (Index("ix_opportunity_line_opportunity", "opportunity_id", "position"),)
    id: int | None = Field(default=None, primary_key=True)
    opportunity_id: int = Field(foreign_key="opportunity.id")
    position: int = Field(default=1)
    product_id: int = Field(foreign_key="product.id")
    amount_fen: int = Field(sa_type=BigInteger())

"""Tables for compliance: approval requests and their decisions, the core-banking event
feed and the alerts its rules raise.

Maker ≠ checker is backed by the database, not only by code. Makers and deciders are named
by a reference that is never NULL (`staff:<id>`, or `system:<name>` for the operator at
the `crm` command); every decision row repeats its request's maker reference (a composite
foreign key proves it is the real one), ties its decider reference to `decider_id`, and a
CHECK refuses the row when the two references are equal. Unique keys refuse a second
decision on one level and a second level decided by the same person.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from crm_tui.store.types import UTCDateTime, utcnow

REQUEST_KINDS = ("sensitive_change", "suitability_override", "large_transaction", "policy_change")
REQUEST_STATUSES = ("pending", "approved", "rejected", "withdrawn", "expired", "stale")


class ApprovalRequest(SQLModel, table=True):
    """One request for approval: what, by whom, against which version of the target, and
    the ordered levels (`levels`: [{"role", "scope"}]) it must climb."""

    __tablename__ = "approval_request"
    __table_args__ = (
        UniqueConstraint("id", "maker_ref", name="uq_approval_request_id_maker"),
        CheckConstraint(
            "(maker_id IS NULL AND maker_ref LIKE 'system:%') "
            "OR maker_ref = 'staff:' || maker_id",
            name="ck_approval_request_maker_ref"),
        Index("ix_approval_inbox", "status", "next_role", "created_at", "id"),
        Index("ix_approval_maker", "maker_id", "created_at"),
        CheckConstraint(
            "status IN ('pending','approved','rejected','withdrawn','expired','stale')",
            name="ck_approval_request_status"),
        CheckConstraint("next_level >= 0 AND next_level <= levels_total",
                        name="ck_approval_request_level"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30)
    status: str = Field(default="pending", max_length=20)
    maker_id: int | None = Field(default=None, foreign_key="staff.id")
    maker_ref: str = Field(max_length=120)
    maker_name: str = Field(max_length=100)
    # The maker's place when she asked: approvers are found within it.
    branch_id: int | None = Field(default=None, foreign_key="branch.id")
    team_id: int | None = Field(default=None, foreign_key="team.id")
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    target_entity: str = Field(max_length=40)
    target_id: str = Field(default="", max_length=64)
    # Version (or hash) of the target when asked; approval of a changed target is stale.
    target_version: str = Field(max_length=128)
    levels: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    levels_total: int = Field(default=1)
    next_level: int = Field(default=0)  # index into `levels` of the level awaiting a decision
    next_role: str | None = Field(default=None, max_length=20)
    next_scope: str | None = Field(default=None, max_length=10)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime(), nullable=False)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)
    outcome_note: str = Field(default="", max_length=400)
    result_ref: str = Field(default="", max_length=64)  # e.g. the executed trade's id


class ApprovalDecision(SQLModel, table=True):
    """One person's decision on one level of one request."""

    __tablename__ = "approval_decision"
    __table_args__ = (
        ForeignKeyConstraint(["request_id", "maker_ref"],
                             ["approval_request.id", "approval_request.maker_ref"],
                             name="fk_approval_decision_request_maker"),
        CheckConstraint("decider_ref = 'staff:' || decider_id",
                        name="ck_approval_decision_decider_ref"),
        CheckConstraint("decider_ref <> maker_ref", name="ck_approval_decision_maker_not_checker"),
        CheckConstraint("decision IN ('approved','rejected')", name="ck_approval_decision_value"),
        UniqueConstraint("request_id", "level", name="uq_approval_decision_level"),
        UniqueConstraint("request_id", "decider_id", name="uq_approval_decision_decider"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="approval_request.id", index=True)
    maker_ref: str = Field(max_length=120)
    level: int
    role: str = Field(max_length=20)
    decider_id: int = Field(foreign_key="staff.id", index=True)
    decider_ref: str = Field(max_length=120)
    decider_name: str = Field(max_length=100)
    decision: str = Field(max_length=10)
    comment: str = Field(default="", max_length=1000)
    decided_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)


class CoreEvent(SQLModel, table=True):
    """One line of the core-banking feed, kept so rules can look back over a window.
    `event_key` (the feed's event id, or a hash of the line) makes replays harmless."""

    __tablename__ = "core_event"
    __table_args__ = (
        Index("ix_core_event_customer_kind_time", "customer_id", "kind", "occurred_at"),
        CheckConstraint("amount_fen >= 0", name="ck_core_event_amount_nonneg"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_key: str = Field(max_length=80, unique=True)
    kind: str = Field(max_length=20)  # login | transaction
    customer_id: int = Field(foreign_key="customer.id")
    occurred_at: datetime = Field(sa_type=UTCDateTime(), nullable=False)
    success: bool = True
    region: str = Field(default="", max_length=50)
    tx_kind: str = Field(default="", max_length=20)  # transfer | cross_border | ...
    amount_fen: int = Field(default=0, sa_type=BigInteger(), nullable=False)
    currency: str = Field(default="CNY", max_length=3)
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)


class RiskAlert(SQLModel, table=True):
    """An alert a rule raised. An open alert with `freeze` stops high-risk operations for
    its customer until a risk officer clears it with a reason."""

    __tablename__ = "risk_alert"
    __table_args__ = (
        Index("ix_risk_alert_status_time", "status", "raised_at", "id"),
        Index("ix_risk_alert_customer_status", "customer_id", "status"),
        CheckConstraint("status IN ('open','cleared')", name="ck_risk_alert_status"),
        CheckConstraint(
            "status = 'open' OR (cleared_by IS NOT NULL AND clear_reason <> '')",
            name="ck_risk_alert_cleared_with_reason"),
    )

    id: int | None = Field(default=None, primary_key=True)
    alert_key: str = Field(max_length=160, unique=True)
    rule: str = Field(max_length=40)
    kind: str = Field(max_length=20)
    severity: str = Field(max_length=10)
    freeze: bool = False
    status: str = Field(default="open", max_length=10)
    customer_id: int = Field(foreign_key="customer.id")
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    raised_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    cleared_by: int | None = Field(default=None, foreign_key="staff.id")
    cleared_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)
    clear_reason: str = Field(default="", sa_type=Text())

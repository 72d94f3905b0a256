"""SQLModel tables. Money is integer fen; sensitive values are ciphertext plus a blind index."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlmodel import Field, SQLModel

from crm_tui.store.types import UTCDateTime, utcnow


def _fen(default: int = 0) -> Any:
    return Field(default=default, sa_type=BigInteger(), nullable=False)


class Branch(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    name: str = Field(max_length=100)
    region: str = Field(default="", max_length=50)


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    name: str = Field(max_length=100)


class Staff(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=50, unique=True)
    display_name: str = Field(max_length=100)
    role: str = Field(max_length=20, index=True)
    branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    password_hash: str = Field(default="", max_length=200)
    active: bool = Field(default=True)
    team_visibility: bool = Field(default=False)
    failed_logins: int = Field(default=0)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    # Bumped on disable, role change and password reset: older sign-ins stop working (issue 7).
    session_epoch: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    language: str = Field(default="", max_length=10, sa_column_kwargs={"server_default": ""})
    """zh_CN | en; "" = the branch default. Decides an SSH session's language (issue 11)."""


class Customer(SQLModel, table=True):
    __table_args__ = (
        Index("ix_customer_national_id_bidx", "national_id_bidx", unique=True),
        # Scoped search: an RM's (or a branch's) customers in name order, with the other
        # searchable columns, the last contact it ranks by and the restriction the scope
        # checks in the index, so ranking a search's matches never reads rows.
        Index("ix_customer_rm_search", "rm_id", "name", "name_initials", "name_pinyin",
              "phone_last4", "last_contact_at", "restricted"),
        Index("ix_customer_branch_search", "branch_id", "name", "name_initials", "name_pinyin",
              "phone_last4", "last_contact_at", "restricted"),
        # Whole-bank search (compliance, risk): one key, most recently contacted last.
        *(Index(f"ix_customer_{key}", key, "last_contact_at", "restricted")
          for key in ("name", "name_pinyin", "name_initials", "phone_last4")),
        # A book in id order (keyset work lists: out of band, above risk), no sort (0019).
        Index("ix_customer_rm_book", "rm_id", "id"),
        Index("ix_customer_branch_book", "branch_id", "id"),
        CheckConstraint("aum_fen >= 0", name="ck_customer_aum_nonneg"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="individual", max_length=20)  # individual | institutional
    name: str = Field(max_length=200)
    name_pinyin: str = Field(default="", max_length=400)
    name_initials: str = Field(default="", max_length=100)
    id_type: str = Field(default="resident_id", max_length=30)
    national_id_enc: str | None = Field(default=None, sa_type=Text())
    national_id_bidx: str | None = Field(default=None, max_length=64)
    phone_enc: str | None = Field(default=None, sa_type=Text())
    phone_bidx: str | None = Field(default=None, max_length=64, index=True)
    phone_last4: str | None = Field(default=None, max_length=4)
    bank_account_enc: str | None = Field(default=None, sa_type=Text())
    bank_account_bidx: str | None = Field(default=None, max_length=64, index=True)
    email: str = Field(default="", max_length=200)
    birth_date: date | None = None
    gender: str = Field(default="", max_length=10)
    address: str = Field(default="", max_length=400)
    occupation: str = Field(default="", max_length=100)
    annual_income_fen: int = _fen()
    goals: str = Field(default="", max_length=1000)
    risk_level: str | None = Field(default=None, max_length=2)
    risk_valid_until: date | None = None
    aum_fen: int = Field(default=0, sa_type=BigInteger(), nullable=False, index=True)
    branch_id: int | None = Field(default=None, foreign_key="branch.id")
    rm_id: int | None = Field(default=None, foreign_key="staff.id")
    status: str = Field(default="active", max_length=20)
    # PIPL restriction (issue 14): a deletion request under a retention duty hides the record
    # from every scope but compliance's reasoned, audited look (kernel.permissions.customer_scope).
    restricted: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    last_contact_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)
    """The latest logged interaction's time, kept with each one logged (search ranks by it)."""
    churned_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)
    """When the relationship ended (KPI churn); `churn_reason` from the policy's list."""
    churn_reason: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    version: int = Field(default=1, nullable=False)
    custom: dict[str, Any] = Field(default_factory=dict, sa_column=Column(
        JSON, nullable=False, default=dict, server_default=text("'{}'")))
    """Values of the custom fields admins define (form engine), keyed by field key; the
    defaults cover bulk Core inserts and raw SQL that do not name the column."""


class KycDocument(SQLModel, table=True):
    __tablename__ = "kyc_document"
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    kind: str = Field(max_length=40)
    status: str = Field(default="pending", max_length=20)  # pending|verified|rejected
    expires_on: date | None = None
    verified_by: int | None = Field(default=None, foreign_key="staff.id")
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    note: str = Field(default="", max_length=400)


class RiskAssessment(SQLModel, table=True):
    __tablename__ = "risk_assessment"
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    score: int = 0
    level: str = Field(max_length=2)
    assessed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    valid_until: date
    assessed_by: int | None = Field(default=None, foreign_key="staff.id")


class Tag(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50, unique=True)
    name_en: str = Field(default="", max_length=80)
    kind: str = Field(default="manual", max_length=10)  # rule | manual


class CustomerTag(SQLModel, table=True):
    __tablename__ = "customer_tag"
    customer_id: int = Field(foreign_key="customer.id", primary_key=True)
    tag_id: int = Field(foreign_key="tag.id", primary_key=True, index=True)
    source: str = Field(default="manual", max_length=10)  # rule | manual
    added_by: int | None = Field(default=None, foreign_key="staff.id")
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)


class Relationship(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("customer_id", "related_id", "kind", name="uq_relationship"),
        CheckConstraint("customer_id <> related_id", name="ck_relationship_not_self"),
    )
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    related_id: int = Field(foreign_key="customer.id", index=True)
    kind: str = Field(max_length=30)  # spouse|parent|child|household|business_partner|influencer
    note: str = Field(default="", max_length=200)


class Interaction(SQLModel, table=True):
    __table_args__ = (Index("ix_interaction_customer_time", "customer_id", "occurred_at", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    channel: str = Field(max_length=20)
    occurred_at: datetime = Field(sa_type=UTCDateTime(), nullable=False)
    subject: str = Field(max_length=200)
    summary: str = Field(default="", sa_type=Text())
    next_action: str = Field(default="", max_length=400)
    next_action_due: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)


class Product(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=30, unique=True)
    name: str = Field(max_length=200)
    category: str = Field(max_length=30)  # deposit|wealth|fund|insurance|bond|structured
    risk_level: str = Field(max_length=2)  # R1..R5
    currency: str = Field(default="CNY", max_length=3)
    active: bool = True
    # The catalogue (issue 15): what matching, proposals and allocation read.
    asset_class: str = Field(default="fixed_income", max_length=20)
    """cash | fixed_income | mixed | equity | alternatives | insurance"""
    min_amount_fen: int = Field(default=0, sa_type=BigInteger(), nullable=False)
    step_amount_fen: int = Field(default=0, sa_type=BigInteger(), nullable=False)
    term_days: int | None = Field(default=None)
    """None: open-ended."""
    maturity_date: date | None = Field(default=None)
    fee_rate_bp: int = Field(default=0)
    """Subscription fee in basis points (1/10,000)."""
    expected_return_low_bp: int | None = Field(default=None)
    expected_return_high_bp: int | None = Field(default=None)
    issuer: str = Field(default="", max_length=100)
    early_redeemable: bool = Field(default=True)
    disclosure: str = Field(default="", sa_type=Text())
    """The risk disclosure shown in proposals and contracts."""


class Holding(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("customer_id", "product_id", name="uq_holding"),
        CheckConstraint("amount_fen >= 0", name="ck_holding_nonneg"),
        CheckConstraint("units_e4 >= 0", name="ck_holding_units_nonneg"),
    )
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    amount_fen: int = _fen()
    """The cost: what was paid in, in fen of the holding's currency (issue 15)."""
    units_e4: int = _fen()
    """Units × 10^4 (principal in yuan × 10^4 for deposits); valued at the latest price."""
    currency: str = Field(default="CNY", max_length=3)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)


TRADE_KINDS = ("subscription", "redemption", "transfer", "cross_border")
"""The values of `Trade.kind`: what a branch records (the core feed adds deposits/withdrawals)."""


class Trade(SQLModel, table=True):
    __table_args__ = (
        Index("ix_trade_customer_time", "customer_id", "occurred_at"),
        CheckConstraint("amount_fen > 0", name="ck_trade_positive"),
    )
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    product_id: int | None = Field(default=None, foreign_key="product.id")
    kind: str = Field(max_length=20)  # one of TRADE_KINDS
    amount_fen: int = Field(sa_type=BigInteger(), nullable=False)
    currency: str = Field(default="CNY", max_length=3)
    occurred_at: datetime = Field(sa_type=UTCDateTime(), nullable=False)
    status: str = Field(default="executed", max_length=20)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    external_ref: str | None = Field(default=None, max_length=64, unique=True)


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime(), nullable=False)
    actor_id: int | None = Field(default=None, index=True)
    actor_name: str = Field(max_length=100)
    action: str = Field(max_length=60, index=True)
    entity: str = Field(max_length=40)
    entity_id: str = Field(default="", max_length=64)
    before: str = Field(default="", sa_type=Text())
    after: str = Field(default="", sa_type=Text())
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    # Issue 7: the chain MAC covers `payload_digest` (SHA-256 of before/after), not the payload,
    # so a personal value can be redacted later and the chain still verifies. `scheme` is
    # "sha" for events chained before keyed MACs, else "hmac:<audit key id>". `row_mac` seals
    # the audited row's new state (see kernel/seals.py).
    payload_digest: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})
    scheme: str = Field(default="sha", max_length=40, sa_column_kwargs={"server_default": "sha"})
    row_mac: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})


class AuditHead(SQLModel, table=True):
    """The newest event's id and hash, so truncating the tail of the log is detected."""

    __tablename__ = "audit_head"
    id: int = Field(default=1, primary_key=True)
    last_event_id: int = 0
    last_hash: str = Field(default="", max_length=64)


class PolicyVersion(SQLModel, table=True):
    __tablename__ = "policy_version"
    id: int | None = Field(default=None, primary_key=True)
    body: str = Field(sa_type=Text())
    applied_by: int | None = Field(default=None, foreign_key="staff.id")
    applied_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    active: bool = Field(default=False, index=True)


class Setting(SQLModel, table=True):
    """Small key/value facts about this database (e.g. the active encryption key id)."""

    key: str = Field(primary_key=True, max_length=50)
    value: str = Field(default="", sa_type=Text())


# Each area's tables live in their own module; importing them here registers them with
# SQLModel.metadata wherever the core tables are known (create_all, Alembic).
from crm_tui.store import models_compliance as _models_compliance  # noqa: E402, F401
from crm_tui.store import models_forms as _models_forms  # noqa: E402, F401
from crm_tui.store import models_privacy as _models_privacy  # noqa: E402, F401
from crm_tui.store import models_products as _models_products  # noqa: E402, F401
from crm_tui.store import models_reporting as _models_reporting  # noqa: E402, F401
from crm_tui.store import models_sales as _models_sales  # noqa: E402, F401
from crm_tui.store import models_service as _models_service  # noqa: E402, F401
from crm_tui.store import models_ssh as _models_ssh  # noqa: E402, F401
from crm_tui.store import models_trust as _models_trust  # noqa: E402, F401
from crm_tui.store import models_workflow as _models_workflow  # noqa: E402, F401

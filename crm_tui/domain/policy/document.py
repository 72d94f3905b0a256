"""The policy (process engine): one TOML file, validated by a pydantic schema, versioned in
the database. It holds KYC requirements and tag rules, and the compliance rules: sensitive
fields, the suitability matrix, approval chains, request expiry and alert rules. Sections a
file leaves out take the defaults below, which match `default_policy.toml`."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import select, update

from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.errors import PolicyInvalid
from crm_tui.domain.policy.forms_policy import FormsPolicy
from crm_tui.domain.policy.sales_policy import SalesPolicy
from crm_tui.domain.policy.service_policy import ServicePolicy
from crm_tui.store.db import Database
from crm_tui.store.models import PolicyVersion

DEFAULT_POLICY_PATH = Path(__file__).with_name("default_policy.toml")

DocKind = Literal[
    "id_proof", "address_proof", "risk_questionnaire", "business_license", "legal_rep_id",
    "beneficial_owner",
]
DOC_KINDS: tuple[str, ...] = DocKind.__args__  # type: ignore[attr-defined]
RISK_LEVELS = ("C1", "C2", "C3", "C4", "C5")
PRODUCT_RISKS = ("R1", "R2", "R3", "R4", "R5")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KycRequirement(Strict):
    required: list[DocKind] = Field(min_length=1)


class KycPolicy(Strict):
    individual: KycRequirement
    institutional: KycRequirement
    validity_days: dict[DocKind, int] = Field(default_factory=dict)

    @field_validator("validity_days")
    @classmethod
    def _positive(cls, v: dict[str, int]) -> dict[str, int]:
        for kind, days in v.items():
            if days <= 0:
                raise ValueError(f"{kind} must be a positive number of days")
        return v

    def for_kind(self, customer_kind: str) -> KycRequirement:
        return self.institutional if customer_kind == "institutional" else self.individual


class RiskAssessmentPolicy(Strict):
    validity_days: int = Field(default=365, gt=0)
    expiry_warning_days: int = Field(default=30, ge=0)


class TagRule(Strict):
    tag: str = Field(min_length=1, max_length=50)
    tag_en: str = Field(default="", max_length=80)
    metric: Literal["aum", "risk_level", "trades_90d", "age"]
    op: Literal[">=", ">", "<=", "<", "==", "!="]
    value: Decimal | str

    @model_validator(mode="after")
    def _value_fits_metric(self) -> TagRule:
        if self.metric == "risk_level":
            if str(self.value) not in RISK_LEVELS:
                raise ValueError(f"risk_level value must be one of {', '.join(RISK_LEVELS)}")
            if self.op not in ("==", "!="):
                raise ValueError("risk_level rules compare with == or !=")
        else:
            try:
                number = Decimal(str(self.value))
            except Exception as exc:
                raise ValueError(f"{self.metric} value must be a number") from exc
            if number < 0:
                raise ValueError(f"{self.metric} value must not be negative")
        return self


# -- compliance: approvals, suitability, alerts -----------------------------------------

ApproverRole = Literal["supervisor", "branch_head", "compliance", "risk"]
ApprovalScope = Literal["team", "branch", "any"]
SensitiveField = Literal["national_id", "phone", "bank_account", "name", "risk_level"]
SENSITIVE_CHANGE_FIELDS: tuple[str, ...] = SensitiveField.__args__  # type: ignore[attr-defined]

# Where a level's approver must sit relative to the maker, unless the policy says otherwise:
# the maker's team supervisor, her branch head, anyone at HQ risk or compliance.
DEFAULT_SCOPE: dict[str, str] = {
    "supervisor": "team", "branch_head": "branch", "compliance": "any", "risk": "any",
}


class ApprovalLevelSpec(Strict):
    role: ApproverRole
    scope: ApprovalScope | None = None

    @property
    def effective_scope(self) -> str:
        return self.scope or DEFAULT_SCOPE[self.role]


class ChainTier(Strict):
    """Transactions of at least `min_amount` (in `currency`) climb these levels in order."""

    min_amount: Decimal = Field(gt=0)
    currency: str = Field(default="CNY", min_length=3, max_length=3)
    levels: list[ApprovalLevelSpec] = Field(min_length=1)


def _levels(*roles: str) -> list[ApprovalLevelSpec]:
    return [ApprovalLevelSpec(role=r) for r in roles]  # type: ignore[arg-type]


def _default_chains() -> list[ChainTier]:
    return [
        ChainTier(min_amount=Decimal(500_000), levels=_levels("supervisor")),
        ChainTier(min_amount=Decimal(2_000_000), levels=_levels("supervisor", "branch_head")),
        ChainTier(min_amount=Decimal(10_000_000),
                  levels=_levels("supervisor", "branch_head", "risk")),
    ]


class ApprovalPolicy(Strict):
    request_expiry_hours: int = Field(default=72, gt=0)
    sensitive_fields: list[SensitiveField] = Field(
        default_factory=lambda: list(SENSITIVE_CHANGE_FIELDS))
    sensitive_change_levels: list[ApprovalLevelSpec] = Field(
        default_factory=lambda: _levels("supervisor"), min_length=1)
    policy_change_levels: list[ApprovalLevelSpec] = Field(
        default_factory=lambda: _levels("compliance"), min_length=1)
    transaction_chains: list[ChainTier] = Field(default_factory=_default_chains)

    @model_validator(mode="after")
    def _sound(self) -> ApprovalPolicy:
        if not any(level.role == "compliance" for level in self.policy_change_levels):
            raise ValueError("policy_change_levels must include a compliance level")
        seen: set[tuple[str, Decimal]] = set()
        for tier in self.transaction_chains:
            if (tier.currency, tier.min_amount) in seen:
                raise ValueError(f"two chains start at {tier.min_amount} {tier.currency}")
            seen.add((tier.currency, tier.min_amount))
        return self

    def chain_for(self, amount: Decimal, currency: str) -> list[ApprovalLevelSpec] | None:
        """The levels of the highest tier `amount` reaches; [] below every tier; None when
        the policy has no chain at all for `currency` (so nothing runs unapproved)."""
        tiers = [t for t in self.transaction_chains if t.currency == currency]
        if not tiers:
            return None
        reached = [t for t in tiers if amount >= t.min_amount]
        if not reached:
            return []
        return list(max(reached, key=lambda t: t.min_amount).levels)

    def chain_currencies(self) -> set[str]:
        return {t.currency for t in self.transaction_chains}


SUITABILITY_ACTIONS = ("allow", "block")


def _default_matrix() -> dict[str, dict[str, str]]:
    """Cn may buy up to Rn; one step above goes to compliance; further is blocked."""
    out: dict[str, dict[str, str]] = {}
    for ci, c in enumerate(RISK_LEVELS, start=1):
        row = {}
        for ri, r in enumerate(PRODUCT_RISKS, start=1):
            row[r] = "allow" if ri <= ci else "approve:compliance" if ri == ci + 1 else "block"
        out[c] = row
    return out


class SuitabilityPolicy(Strict):
    """Customer risk level C1–C5 × product risk R1–R5 → "allow", "block" or
    "approve:<role>" (sold only after that role approves an override)."""

    matrix: dict[str, dict[str, str]] = Field(default_factory=_default_matrix)

    @field_validator("matrix")
    @classmethod
    def _complete(cls, v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        if sorted(v) != list(RISK_LEVELS):
            raise ValueError(f"needs exactly the rows {', '.join(RISK_LEVELS)}")
        roles = ApproverRole.__args__  # type: ignore[attr-defined]
        for c, row in v.items():
            if sorted(row) != list(PRODUCT_RISKS):
                raise ValueError(f"{c} needs exactly the columns {', '.join(PRODUCT_RISKS)}")
            for r, action in row.items():
                if action in SUITABILITY_ACTIONS:
                    continue
                head, _, role = action.partition(":")
                if head != "approve" or role not in roles:
                    raise ValueError(f"{c}.{r}: {action!r} is not allow, block or "
                                     f"approve:<{'|'.join(roles)}>")
        return v

    def cell(self, customer_level: str, product_risk: str) -> tuple[str, str | None]:
        """("allow"|"block"|"approve", approver role or None)."""
        action = self.matrix[customer_level][product_risk]
        if action.startswith("approve:"):
            return "approve", action.split(":", 1)[1]
        return action, None


AlertKind = Literal["failed_logins", "new_region", "cross_border"]


class AlertRule(Strict):
    """One rule over the core-banking feed. `count` events of `kind` within
    `window_minutes` (and, for money, totalling at least `min_total`) raise an alert."""

    name: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    kind: AlertKind
    window_minutes: int = Field(default=10, gt=0)
    count: int = Field(default=1, ge=1)
    min_total: Decimal = Field(default=Decimal(0), ge=0)
    severity: Literal["low", "medium", "high"] = "medium"
    freeze: bool = False


def _default_alert_rules() -> list[AlertRule]:
    return [
        AlertRule(name="failed_logins", kind="failed_logins", window_minutes=10, count=5,
                  severity="medium"),
        AlertRule(name="new_region_login", kind="new_region", window_minutes=1, count=1,
                  severity="medium"),
        AlertRule(name="cross_border_burst", kind="cross_border", window_minutes=7 * 24 * 60,
                  count=3, min_total=Decimal(500_000), severity="high", freeze=True),
    ]


class Policy(Strict):
    kyc: KycPolicy
    risk_assessment: RiskAssessmentPolicy = RiskAssessmentPolicy()
    tag_rules: list[TagRule] = Field(default_factory=list)
    approvals: ApprovalPolicy = Field(default_factory=ApprovalPolicy)
    suitability: SuitabilityPolicy = Field(default_factory=SuitabilityPolicy)
    alert_rules: list[AlertRule] = Field(default_factory=_default_alert_rules)
    sales: SalesPolicy = Field(default_factory=SalesPolicy)
    service: ServicePolicy = Field(default_factory=ServicePolicy)
    forms: FormsPolicy = Field(default_factory=FormsPolicy)

    @model_validator(mode="after")
    def _unique_alert_rules(self) -> Policy:
        names = [r.name for r in self.alert_rules]
        if len(set(names)) != len(names):
            raise ValueError("two alert rules share a name")
        return self

    @model_validator(mode="after")
    def _unique_tags(self) -> Policy:
        seen: set[str] = set()
        for rule in self.tag_rules:
            if rule.tag in seen:
                raise ValueError(f"tag {rule.tag!r} has more than one rule")
            seen.add(rule.tag)
        return self


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def parse_policy(text: str) -> Policy:
    """Parse and validate; a bad file raises PolicyInvalid naming the key and the problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyInvalid("policy.error.toml", detail=str(exc)) from exc
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = _loc(tuple(p for p in err["loc"] if not str(p).startswith("function-")))
        msg = err["msg"].removeprefix("Value error, ")
        raise PolicyInvalid("policy.error.key", key=loc or "(root)", detail=msg) from exc


def default_policy_text() -> str:
    return DEFAULT_POLICY_PATH.read_text(encoding="utf-8")


def load_policy_file(path: Path) -> tuple[str, Policy]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyInvalid("policy.error.read", path=str(path), detail=str(exc)) from exc
    return text, parse_policy(text)


def active_policy_text(db: Database) -> str:
    with db.read() as session:
        row = session.scalars(
            select(PolicyVersion).where(PolicyVersion.active).order_by(PolicyVersion.id.desc())  # type: ignore[union-attr,arg-type]
        ).first()
    return row.body if row else default_policy_text()


def active_policy_id(db: Database) -> int | None:
    """The id of the active version (None: the shipped default is in force)."""
    with db.read() as session:
        return session.scalar(
            select(PolicyVersion.id).where(PolicyVersion.active).order_by(PolicyVersion.id.desc())  # type: ignore[union-attr,arg-type]
            .limit(1))


def active_policy(db: Database) -> Policy:
    return parse_policy(active_policy_text(db))


def activate_policy(db: Database, session, actor: Actor, text: str) -> PolicyVersion:  # type: ignore[no-untyped-def]
    """Store `text` as the one active version, inside the caller's transaction."""
    session.execute(update(PolicyVersion).values(active=False))
    row = PolicyVersion(body=text, applied_by=actor.id, active=True)
    session.add(row)
    session.flush()
    return row

"""The policy (process engine): one TOML file, validated by a pydantic schema, versioned in
the database. This issue holds KYC requirements and tag rules; later issues add more."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import select, update

from crm_tui.domain.actor import Actor
from crm_tui.domain.errors import PolicyInvalid
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


class Policy(Strict):
    kyc: KycPolicy
    risk_assessment: RiskAssessmentPolicy = RiskAssessmentPolicy()
    tag_rules: list[TagRule] = Field(default_factory=list)

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


def active_policy(db: Database) -> Policy:
    return parse_policy(active_policy_text(db))


def activate_policy(db: Database, session, actor: Actor, text: str) -> PolicyVersion:  # type: ignore[no-untyped-def]
    """Store `text` as the one active version, inside the caller's transaction."""
    session.execute(update(PolicyVersion).values(active=False))
    row = PolicyVersion(body=text, applied_by=actor.id, active=True)
    session.add(row)
    session.flush()
    return row

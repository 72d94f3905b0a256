"""The reporting settings: AUM tiers of the pyramid, the value model behind LTV, churn
reasons, and the churn-risk early warning (each factor's weight and threshold), so a
reviewer reads the score's rules in the policy file, not in code."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Tier(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=20, pattern=r"^[a-z][a-z0-9_]*$")
    min_aum: Decimal = Field(ge=0, le=Decimal("1e13"))


def _tiers() -> list[Tier]:
    return [Tier(name="private", min_aum=Decimal(30_000_000)),
            Tier(name="hnw", min_aum=Decimal(6_000_000)),
            Tier(name="affluent", min_aum=Decimal(500_000)),
            Tier(name="mass", min_aum=Decimal(0))]


class ChurnWeights(BaseModel):
    """Points each factor adds to the churn-risk score when it fires; together 100."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    aum_decline: int = Field(default=35, ge=0, le=100)
    activity_drop: int = Field(default=25, ge=0, le=100)
    open_complaints: int = Field(default=20, ge=0, le=100)
    no_contact: int = Field(default=20, ge=0, le=100)

    @model_validator(mode="after")
    def _hundred(self) -> ChurnWeights:
        total = self.aum_decline + self.activity_drop + self.open_complaints + self.no_contact
        if total != 100:
            raise ValueError(f"the four weights must add up to 100, not {total}")
        return self


class ChurnRisk(BaseModel):
    """When each factor fires. Percentages are whole numbers so the database compares
    integers (fen × 100 against fen × percent) and SQLite and PostgreSQL agree exactly."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weights: ChurnWeights = Field(default_factory=ChurnWeights)
    window_days: int = Field(default=90, ge=7, le=365)
    """The recent window for the AUM outflow and the activity (the one before it compares)."""
    aum_decline_pct: int = Field(default=20, ge=1, le=100)
    """Net outflow in the window, as a share of the AUM at its start, that fires the factor."""
    activity_drop_pct: int = Field(default=50, ge=1, le=100)
    """Fires when the window's interactions + trades fell by at least this share."""
    no_contact_days: int = Field(default=90, ge=1, le=3650)
    min_score: int = Field(default=40, ge=1, le=100)
    """A customer enters the warning list at this score."""
    task_due_days: int = Field(default=7, ge=0, le=90)
    """A follow-up task made from a warning is due this many days later."""


class ReportingPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tiers: list[Tier] = Field(default_factory=_tiers, min_length=1)
    """Highest first; a customer falls in the first tier whose minimum her AUM reaches."""
    aum_margin_bp: int = Field(default=50, ge=0, le=10_000)
    """What the bank earns a year on AUM, in basis points (LTV)."""
    relationship_years: int = Field(default=8, ge=1, le=50)
    """Expected length of a relationship, in years (LTV)."""
    churn_reasons: list[str] = Field(default_factory=lambda: [
        "yield", "service", "funds_needed", "moved_bank", "relocated", "deceased", "other"],
        min_length=1)
    churn_risk: ChurnRisk = Field(default_factory=ChurnRisk)
    """The early warning's score (docs/METRICS.md, "Early warnings")."""

    @model_validator(mode="after")
    def _sound(self) -> ReportingPolicy:
        minimums = [t.min_aum for t in self.tiers]
        if minimums != sorted(minimums, reverse=True) or len(set(minimums)) != len(minimums):
            raise ValueError("tiers must go from the highest minimum to the lowest, without repeats")
        if minimums[-1] != 0:
            raise ValueError("the last tier must start at 0 so every customer has one")
        return self

"""The reporting settings: AUM tiers of the pyramid, the value model behind LTV, churn
reasons, and the weights of the churn-risk score."""

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
    churn_score_weights: dict[str, int] = Field(default_factory=lambda: {
        "aum_decline": 35, "activity_drop": 25, "open_complaints": 20, "no_contact": 20})
    no_contact_days: int = Field(default=90, ge=1, le=3650)

    @model_validator(mode="after")
    def _sound(self) -> ReportingPolicy:
        minimums = [t.min_aum for t in self.tiers]
        if minimums != sorted(minimums, reverse=True) or len(set(minimums)) != len(minimums):
            raise ValueError("tiers must go from the highest minimum to the lowest, without repeats")
        if minimums[-1] != 0:
            raise ValueError("the last tier must start at 0 so every customer has one")
        if set(self.churn_score_weights) != {"aum_decline", "activity_drop", "open_complaints",
                                             "no_contact"}:
            raise ValueError("churn_score_weights needs aum_decline, activity_drop, "
                             "open_complaints and no_contact")
        if sum(self.churn_score_weights.values()) != 100:
            raise ValueError("churn_score_weights must add up to 100")
        return self

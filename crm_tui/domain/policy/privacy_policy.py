"""The policy's `[privacy]` section (issue 14): how long each data category is kept after
the relationship ends (or a deletion request), how many days a rights request may take, and
how many profiles one staff member may open in a day before a risk alert is raised."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Data categories with their own retention period. AML rules keep transaction and identity
# records five years after the relationship ends; notes of conversations need not wait as long.
RETENTION_CATEGORIES: tuple[str, ...] = ("profile", "kyc", "transactions", "interactions")


def _default_retention() -> dict[str, int]:
    return {"profile": 5, "kyc": 5, "transactions": 5, "interactions": 3}


class PrivacyPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    request_deadline_days: int = Field(default=15, ge=1, le=90)
    access_alert_per_day: int = Field(default=200, ge=1, le=1_000_000)
    retention_years: dict[str, int] = Field(default_factory=_default_retention)

    @field_validator("retention_years")
    @classmethod
    def _every_category(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(RETENTION_CATEGORIES))
        if unknown:
            raise ValueError(f"unknown data category {unknown[0]!r} (known: "
                             f"{', '.join(RETENTION_CATEGORIES)})")
        missing = [c for c in RETENTION_CATEGORIES if c not in value]
        if missing:
            raise ValueError(f"data category {missing[0]!r} needs a retention period")
        for category, years in value.items():
            if not 1 <= years <= 100:
                raise ValueError(f"{category}: retention must be 1 to 100 years, not {years}")
        return value

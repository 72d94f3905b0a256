"""The `[portfolios]` policy section: one model portfolio per customer risk level C1–C5 —
target weights per asset class (percent, adding up to 100) and a tolerance band (percentage
points either side of each target) — plus the maturity-reminder windows and how many
rebalancing moves and reinvestment ideas to offer."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

AssetClass = Literal["cash", "fixed_income", "mixed", "equity", "alternatives", "insurance"]
ASSET_CLASSES: tuple[str, ...] = AssetClass.__args__  # type: ignore[attr-defined]
LEVELS = ("C1", "C2", "C3", "C4", "C5")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelPortfolio(_Strict):
    targets: dict[AssetClass, Decimal]
    band: Decimal = Field(default=Decimal(5), gt=0, le=50)

    @field_validator("targets")
    @classmethod
    def _adds_up(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        if any(w < 0 or w > 100 for w in v.values()):
            raise ValueError("each target weight is between 0 and 100")
        if sum(v.values(), Decimal(0)) != 100:
            raise ValueError("target weights must add up to 100")
        return v

    def target(self, asset_class: str) -> Decimal:
        return self.targets.get(asset_class, Decimal(0))  # type: ignore[call-overload]


def _defaults() -> dict[str, ModelPortfolio]:
    d = Decimal
    return {
        "C1": ModelPortfolio(targets={"cash": d(40), "fixed_income": d(55), "insurance": d(5)}),
        "C2": ModelPortfolio(targets={"cash": d(20), "fixed_income": d(60), "mixed": d(10),
                                      "insurance": d(10)}),
        "C3": ModelPortfolio(targets={"cash": d(10), "fixed_income": d(45), "mixed": d(25),
                                      "equity": d(10), "insurance": d(10)}),
        "C4": ModelPortfolio(targets={"cash": d(5), "fixed_income": d(30), "mixed": d(25),
                                      "equity": d(30), "alternatives": d(5),
                                      "insurance": d(5)}, band=d(7)),
        "C5": ModelPortfolio(targets={"cash": d(5), "fixed_income": d(15), "mixed": d(20),
                                      "equity": d(45), "alternatives": d(10),
                                      "insurance": d(5)}, band=d(10)),
    }


class PortfolioPolicy(_Strict):
    models: dict[str, ModelPortfolio] = Field(default_factory=_defaults)
    maturity_windows: list[int] = Field(default_factory=lambda: [7, 30, 60])
    max_suggestions: int = Field(default=6, ge=1, le=50)
    shortlist: int = Field(default=3, ge=1, le=10)

    @model_validator(mode="after")
    def _every_level(self) -> PortfolioPolicy:
        if sorted(self.models) != list(LEVELS):
            raise ValueError(f"needs exactly one model for each of {', '.join(LEVELS)}")
        if not self.maturity_windows or any(not 0 < w <= 366 for w in self.maturity_windows):
            raise ValueError("maturity_windows are days between 1 and 366")
        return self

    def model_for(self, level: str | None) -> ModelPortfolio | None:
        return self.models.get(level or "")

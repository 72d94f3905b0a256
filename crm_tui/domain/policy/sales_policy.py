"""The policy's `sales` section: lead assignment rules, the first-contact SLA, lost reasons,
the contract-close approval levels, the service flow after a win and the templates.

Rules are tried in order; the first whose conditions all hold (an empty condition holds)
assigns the lead. A rule names either one RM (`rm`) or a team (`team`, with `method`
round_robin or least_loaded). Leads no rule takes wait in the branch supervisors'
unassigned queue."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

LEAD_SOURCES = ("campaign", "web", "referral", "walk_in")
LeadSource = Literal["campaign", "web", "referral", "walk_in"]
Method = Literal["round_robin", "least_loaded"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AssignmentRule(_Strict):
    name: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    branch: str | None = Field(default=None, max_length=20)
    """Branch code the lead belongs to."""
    region: str | None = Field(default=None, max_length=50)
    min_assets: Decimal | None = Field(default=None, ge=0)
    max_assets: Decimal | None = Field(default=None, ge=0)
    product_interest: list[str] = Field(default_factory=list)
    sources: list[LeadSource] = Field(default_factory=list)
    rm: str | None = Field(default=None, max_length=50)
    """A named RM's user name."""
    team: str | None = Field(default=None, max_length=100)
    """A team's name; with `branch` set, the team of that branch."""
    method: Method = "round_robin"

    @model_validator(mode="after")
    def _one_action(self) -> AssignmentRule:
        if (self.rm is None) == (self.team is None):
            raise ValueError("a rule names exactly one of rm or team")
        if (self.min_assets is not None and self.max_assets is not None
                and self.min_assets > self.max_assets):
            raise ValueError("min_assets is above max_assets")
        return self


class ContractLevel(_Strict):
    role: Literal["supervisor", "branch_head", "compliance", "risk"]
    scope: Literal["team", "branch", "any"] | None = None


class SalesPolicy(_Strict):
    first_contact_hours: int = Field(default=24, gt=0, le=24 * 30)
    assignment_rules: list[AssignmentRule] = Field(default_factory=list)
    lost_reasons: list[str] = Field(
        default_factory=lambda: ["price", "competitor", "no_need", "risk_mismatch",
                                 "unreachable", "other"], min_length=1)
    contract_close_levels: list[ContractLevel] = Field(
        default_factory=lambda: [ContractLevel(role="compliance")], min_length=1)
    onboarding_due_days: int = Field(default=3, gt=0, le=90)
    review_days_hnw: int = Field(default=90, gt=0, le=730)
    review_days_mass: int = Field(default=180, gt=0, le=730)
    hnw_min_aum: Decimal = Field(default=Decimal(6_000_000), ge=0)
    proposal_template: str | None = None
    """A Jinja2 Markdown template; None uses the shipped one."""
    contract_template: str | None = None

    @model_validator(mode="after")
    def _unique(self) -> SalesPolicy:
        names = [r.name for r in self.assignment_rules]
        if len(set(names)) != len(names):
            raise ValueError("two assignment rules share a name")
        if len(set(self.lost_reasons)) != len(self.lost_reasons):
            raise ValueError("a lost reason is listed twice")
        if not any(lv.role == "compliance" for lv in self.contract_close_levels):
            raise ValueError("contract_close_levels must include a compliance level")
        return self

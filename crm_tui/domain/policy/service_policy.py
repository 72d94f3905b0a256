"""The `service` section of the policy: routing, business-time SLAs, escalation, the
complaint loop, review cadence per tier, care triggers and outbox retries (issue 10).

Every default here matches the `[service]` tables of `default_policy.toml`; a bad value is
refused by `parse_policy` as `service.<key>: problem`.
"""

from __future__ import annotations

import re
from datetime import date, time
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

TICKET_TYPES = ("inquiry", "transaction_help", "info_change", "complaint", "other")
PRIORITIES = ("urgent", "high", "normal", "low")
TicketType = Literal["inquiry", "transaction_help", "info_change", "complaint", "other"]
Priority = Literal["urgent", "high", "normal", "low"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceCalendar(_Strict):
    """Working days per the PRC calendar (holidays off, make-up days 调休 on) and the
    working hours. `extra_holidays` / `extra_workdays` cover a year the holiday package
    does not know yet (the State Council publishes it each November)."""

    zone: str = "Asia/Shanghai"
    day_start: time = time(9, 0)
    day_end: time = time(17, 0)
    extra_holidays: list[date] = Field(default_factory=list)
    extra_workdays: list[date] = Field(default_factory=list)

    @field_validator("zone")
    @classmethod
    def _zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(v)
        except Exception as exc:
            raise ValueError(f"{v!r} is not a time zone") from exc
        return v

    @model_validator(mode="after")
    def _hours(self) -> ServiceCalendar:
        if self.day_end <= self.day_start:
            raise ValueError("day_end must be after day_start")
        both = set(self.extra_holidays) & set(self.extra_workdays)
        if both:
            raise ValueError(f"{min(both)} is both an extra holiday and an extra workday")
        return self


class SlaTarget(_Strict):
    first_response_hours: Decimal = Field(gt=0, le=1000)
    resolution_hours: Decimal = Field(gt=0, le=5000)

    @model_validator(mode="after")
    def _order(self) -> SlaTarget:
        if self.resolution_hours < self.first_response_hours:
            raise ValueError("resolution_hours must not be shorter than first_response_hours")
        return self


def _default_sla() -> dict[str, SlaTarget]:
    return {p: SlaTarget(first_response_hours=Decimal(f), resolution_hours=Decimal(r))
            for p, f, r in (("urgent", 1, 4), ("high", 2, 8), ("normal", 4, 24), ("low", 8, 40))}


class Route(_Strict):
    """Tickets of `type` (or "*") and `priority` (or "*") go to `queue`, worked by `team`
    (a team name in the customer's branch; empty: the branch's service desk)."""

    type: TicketType | Literal["*"] = "*"
    priority: Priority | Literal["*"] = "*"
    queue: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    team: str = Field(default="", max_length=100)


def _default_routes() -> list[Route]:
    return [
        Route(type="complaint", queue="complaints"),
        Route(type="*", priority="urgent", queue="priority"),
        Route(type="transaction_help", queue="transactions"),
        Route(type="info_change", queue="back_office"),
        Route(type="*", queue="general"),
    ]


class ComplaintPolicy(_Strict):
    levels: list[str] = Field(default_factory=lambda: ["general", "serious", "major"],
                              min_length=1)
    notify_levels: list[str] = Field(default_factory=lambda: ["major"])
    """Levels that notify the branch head and compliance."""
    resolution_days: int = Field(default=15, gt=0, le=90)
    """Calendar days from receipt (the PBOC rule for financial consumer complaints)."""

    @model_validator(mode="after")
    def _known(self) -> ComplaintPolicy:
        for level in self.levels:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", level):
                raise ValueError(f"level {level!r} must be lower-case letters, digits, _")
        unknown = [x for x in self.notify_levels if x not in self.levels]
        if unknown:
            raise ValueError(f"notify_levels: {unknown[0]!r} is not one of the levels")
        return self


ReviewKind = Literal["portfolio_review", "half_year_review", "satisfaction_call"]


class ReviewTier(_Strict):
    """A customer is in the first tier (in order) whose `min_aum` she reaches or whose
    `tag` she carries; `cadence_months` of 3, 6 or 12 cut the year into periods."""

    tier: str = Field(min_length=1, max_length=30, pattern=r"^[a-z][a-z0-9_]*$")
    min_aum: Decimal = Field(ge=0)
    tag: str = Field(default="", max_length=50)
    cadence_months: Literal[3, 6, 12]
    kind: ReviewKind
    top: bool = False
    """Top-tier customers also get a care call task from the RM."""


def _default_tiers() -> list[ReviewTier]:
    return [
        ReviewTier(tier="private_banking", min_aum=Decimal(30_000_000), tag="私人银行",
                   cadence_months=3, kind="portfolio_review", top=True),
        ReviewTier(tier="hnw", min_aum=Decimal(6_000_000), tag="高净值", cadence_months=3,
                   kind="portfolio_review", top=True),
        ReviewTier(tier="affluent", min_aum=Decimal(500_000), cadence_months=6,
                   kind="half_year_review"),
        ReviewTier(tier="mass", min_aum=Decimal(0), cadence_months=12, kind="satisfaction_call"),
    ]


class Holiday(_Strict):
    """`on` is "MM-DD" (solar) or "lunar:MM-DD" (the Chinese calendar)."""

    name: str = Field(min_length=1, max_length=30, pattern=r"^[a-z][a-z0-9_]*$")
    on: str

    @field_validator("on")
    @classmethod
    def _date(cls, v: str) -> str:
        m = re.fullmatch(r"(lunar:)?(\d{2})-(\d{2})", v)
        if not m or not (1 <= int(m.group(2)) <= 12 and 1 <= int(m.group(3)) <= 31):
            raise ValueError(f"{v!r} is not MM-DD or lunar:MM-DD")
        if m.group(1) and int(m.group(3)) > 30:
            raise ValueError(f"{v!r}: a lunar month has at most 30 days")
        return v


def _default_holidays() -> list[Holiday]:
    return [Holiday(name=n, on=o) for n, o in (
        ("new_year", "01-01"), ("spring_festival", "lunar:01-01"), ("lantern", "lunar:01-15"),
        ("dragon_boat", "lunar:05-05"), ("mid_autumn", "lunar:08-15"),
        ("national_day", "10-01"), ("double_ninth", "lunar:09-09"))]


class Template(_Strict):
    subject: str = Field(default="", max_length=200)
    body: str = Field(min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _compiles(self) -> Template:
        from jinja2 import TemplateSyntaxError
        from jinja2.sandbox import SandboxedEnvironment

        env = SandboxedEnvironment()
        for text in (self.subject, self.body):
            try:
                env.parse(text)
            except TemplateSyntaxError as exc:
                raise ValueError(f"template: {exc.message} (line {exc.lineno})") from exc
        return self


def _default_templates() -> dict[str, Template]:
    sign = "【{{ bank }}】"
    return {
        "birthday": Template(subject="生日快乐 | {{ bank }}",
                             body=sign + "尊敬的{{ name }}，祝您生日快乐、身体健康、万事如意！"
                                         "您的客户经理{{ rm }}。"),
        "anniversary": Template(subject="感谢相伴 {{ years }} 年 | {{ bank }}",
                                body=sign + "尊敬的{{ name }}，感谢您与我们相伴{{ years }}年，"
                                            "我们将一如既往为您服务。"),
        "holiday": Template(subject="{{ holiday }}快乐 | {{ bank }}",
                            body=sign + "尊敬的{{ name }}，值此{{ holiday }}之际，"
                                        "祝您和家人幸福安康！"),
    }


class CarePolicy(_Strict):
    birthdays: bool = True
    anniversaries: bool = True
    holidays: list[Holiday] = Field(default_factory=_default_holidays)
    channels: list[Literal["sms", "email"]] = Field(default_factory=lambda: ["sms", "email"])
    bank_name: str = Field(default="银行", min_length=1, max_length=40)
    templates: dict[str, Template] = Field(default_factory=_default_templates)
    call_due_hours: int = Field(default=8, gt=0, le=168)

    @model_validator(mode="after")
    def _templates(self) -> CarePolicy:
        for needed in ("birthday", "anniversary", "holiday"):
            if needed not in self.templates:
                raise ValueError(f"templates.{needed} is missing")
        names = [h.name for h in self.holidays]
        if len(set(names)) != len(names):
            raise ValueError("two holidays share a name")
        return self


class OutboxPolicy(_Strict):
    max_attempts: int = Field(default=5, ge=1, le=20)
    backoff_minutes: list[int] = Field(default_factory=lambda: [1, 5, 30, 120], min_length=1)
    batch: int = Field(default=200, ge=1, le=5000)

    @field_validator("backoff_minutes")
    @classmethod
    def _positive(cls, v: list[int]) -> list[int]:
        if any(m <= 0 for m in v):
            raise ValueError("every back-off must be a positive number of minutes")
        return v

    def backoff(self, attempts: int) -> int:
        return self.backoff_minutes[min(attempts, len(self.backoff_minutes)) - 1]


class ServicePolicy(_Strict):
    calendar: ServiceCalendar = Field(default_factory=ServiceCalendar)
    sla: dict[Priority, SlaTarget] = Field(default_factory=_default_sla)
    routes: list[Route] = Field(default_factory=_default_routes, min_length=1)
    complaints: ComplaintPolicy = Field(default_factory=ComplaintPolicy)
    review_tiers: list[ReviewTier] = Field(default_factory=_default_tiers, min_length=1)
    care: CarePolicy = Field(default_factory=CarePolicy)
    outbox: OutboxPolicy = Field(default_factory=OutboxPolicy)

    @model_validator(mode="after")
    def _complete(self) -> ServicePolicy:
        missing = [p for p in PRIORITIES if p not in self.sla]
        if missing:
            raise ValueError(f"sla.{missing[0]} is missing")
        last = self.routes[-1]
        if (last.type, last.priority) != ("*", "*"):
            raise ValueError("the last route must be the catch-all (type = \"*\", priority = \"*\")")
        if self.review_tiers[-1].min_aum != 0:
            raise ValueError("the last review tier must start at min_aum = 0")
        names = [t.tier for t in self.review_tiers]
        if len(set(names)) != len(names):
            raise ValueError("two review tiers share a name")
        return self

    def route(self, ticket_type: str, priority: str) -> Route:
        for r in self.routes:
            if r.type in ("*", ticket_type) and r.priority in ("*", priority):
                return r
        return self.routes[-1]

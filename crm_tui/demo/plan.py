"""The demo generator's plan: what one customer will be, before anything is written.

`PlannerBase` holds the shared state (one seeded `random.Random`, the pinned clock, the
policy) that the people, book and activity planners all draw from, so the order of draws,
and hence the whole demo for a seed, stays fixed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from faker import Faker

from crm_tui.demo import data as D
from crm_tui.domain.policy.document import Policy

SHANGHAI = ZoneInfo("Asia/Shanghai")
RISK_RANK = {"C1": 1, "C2": 2, "C3": 3, "C4": 4, "C5": 5}
PRODUCT_RANK = {"R1": 1, "R2": 2, "R3": 3, "R4": 4, "R5": 5}
# Documents whose expiry is printed on them; the others expire by the policy's validity days.
DATED_DOCS = ("id_proof", "legal_rep_id", "business_license")
KYC_STATES = ("ok", "expiring", "expired", "pending", "rejected", "missing")
KYC_WEIGHTS = (0.73, 0.05, 0.06, 0.05, 0.05, 0.06)
RISK_STATES = ("valid", "expiring", "expired", "missing")
RISK_WEIGHTS = (0.74, 0.07, 0.13, 0.06)


# -- the plan for one customer ------------------------------------------------------------


@dataclass
class Plan:
    kind: str
    name: str
    rm: str
    branch: str
    national_id: str
    phone: str
    since: datetime
    gender: str = ""
    birth: date | None = None
    bank_account: str = ""
    email: str = ""
    address: str = ""
    occupation: str = ""
    income_yuan: int = 0
    goals: str = ""
    aum_yuan: int = 0
    risk: str | None = None
    risk_state: str = "missing"
    kyc: dict[str, str] = field(default_factory=dict)
    active_trader: bool = False
    interactions: int = 0
    manual_tags: list[str] = field(default_factory=list)
    surname: str = ""
    # filled while planning, written after the customer rows have ids
    docs: list[dict[str, Any]] = field(default_factory=list)
    assessments: list[dict[str, Any]] = field(default_factory=list)
    holdings: list[tuple[str, int]] = field(default_factory=list)  # product code, fen
    trades: list[dict[str, Any]] = field(default_factory=list)
    touches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def tier(self) -> str:
        if self.aum_yuan >= 30_000_000:
            return "private"
        if self.aum_yuan >= 6_000_000:
            return "hnw"
        if self.aum_yuan >= 500_000:
            return "affluent"
        return "mass" if self.aum_yuan > 0 else "dormant"


@dataclass
class Relation:
    a: int  # plan index
    b: int
    kind: str  # b is a's <kind>
    note: str = ""


class PlannerBase:
    """State shared by the planners; no database access."""

    def __init__(self, seed: int, now: datetime, policy: Policy) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        self.now = now
        self.today = now.astimezone(SHANGHAI).date()
        self.policy = policy
        self.ids: set[str] = set()
        self.phones: set[str] = set()
        self.plans: list[Plan] = []
        self.relations: list[Relation] = []
        self.products = D.PRODUCTS
        book = [(s[0], s[3], s[5]) for s in D.STAFF if s[5] > 0]
        self.book_rms = [b[0] for b in book]
        self.book_weights = [b[2] for b in book]
        self.rm_branch = {b[0]: b[1] for b in book}

    def at_local(self, day: date, start: int = 9, end: int = 18) -> datetime:
        minutes = self.rng.randint(start * 60, end * 60 - 1)
        local = datetime.combine(day, time(minutes // 60, minutes % 60), SHANGHAI)
        return local.astimezone(UTC)

    def suitable(self, plan: Plan) -> list[tuple[str, str, str, str]]:
        limit = RISK_RANK.get(plan.risk or "C1", 1) if plan.risk_state != "missing" else 1
        return [p for p in self.products if PRODUCT_RANK[p[3]] <= limit]

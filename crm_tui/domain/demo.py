"""`crm demo`: a realistic Chinese branch in an empty database, deterministic for a seed.

Two branches with teams and staff for every role; thousands of customers with valid
resident IDs, households and business networks; KYC in every state; risk assessments;
products R1–R5; holdings whose AUM follows a branch's pyramid; trades; two years of
interactions. Everything is planned in Python first (so dates hang together), then written
with Core executemany in ONE transaction with ONE audit event, so a failure leaves nothing.
Then `demo_compliance` puts work in the approval inbox and the alert list through the
domain functions staff use, each step with its own audit event.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from faker import Faker
from sqlalchemy import func, insert, select
from sqlmodel import Session

from crm_tui.domain import audit
from crm_tui.domain import demo_data as D
from crm_tui.domain.actor import Actor
from crm_tui.domain.auth import hash_password
from crm_tui.domain.context import Crm
from crm_tui.domain.customer_fields import clean_customer, customer_row
from crm_tui.domain.demo_compliance import seed_compliance
from crm_tui.domain.errors import Blocked
from crm_tui.domain.permissions import Perm, require
from crm_tui.domain.policy import Policy
from crm_tui.domain.tags import evaluate_rule_tags
from crm_tui.domain.validation import id_check_digit
from crm_tui.store.models import (
    Branch,
    Customer,
    CustomerTag,
    Holding,
    Interaction,
    KycDocument,
    Product,
    Relationship,
    RiskAssessment,
    Staff,
    Tag,
    Team,
    Trade,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
RISK_RANK = {"C1": 1, "C2": 2, "C3": 3, "C4": 4, "C5": 5}
PRODUCT_RANK = {"R1": 1, "R2": 2, "R3": 3, "R4": 4, "R5": 5}
# Documents whose expiry is printed on them; the others expire by the policy's validity days.
DATED_DOCS = ("id_proof", "legal_rep_id", "business_license")
KYC_STATES = ("ok", "expiring", "expired", "pending", "rejected", "missing")
KYC_WEIGHTS = (0.73, 0.05, 0.06, 0.05, 0.05, 0.06)
RISK_STATES = ("valid", "expiring", "expired", "missing")
RISK_WEIGHTS = (0.74, 0.07, 0.13, 0.06)

Login = tuple[str, str, str]


# -- identifiers that pass the same checks as real ones ---------------------------------

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def credit_code(area: str, body8: str) -> str:
    """A unified social credit code (GB 32100) with both check characters right."""
    org_check = 11 - sum(int(c, 36) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True)) % 11
    org = body8 + {10: "X", 11: "0"}.get(org_check, str(org_check))
    first17 = "91" + area + org
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return first17 + _USCC_CHARS[(31 - total % 31) % 31]


def luhn_complete(digits: str) -> str:
    """Append the Luhn check digit that bank card numbers carry."""
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return digits + str((10 - total % 10) % 10)


def pyramid_aum(rng: random.Random, institutional: bool = False) -> int:
    """AUM in yuan as a branch's pyramid has it: most below 500k, a layer of affluent,
    few high-net-worth (6M+), fewer private-banking (30M+). The bench uses it too."""
    if institutional:
        return int(math.exp(rng.uniform(math.log(200_000), math.log(50_000_000))))
    u = rng.random()
    if u < 0.07:
        return 0
    if u < 0.80:
        return max(1_000, min(499_000, int(rng.lognormvariate(math.log(60_000), 1.1))))
    if u < 0.967:
        return int(math.exp(rng.uniform(math.log(500_000), math.log(6_000_000))))
    if u < 0.995:
        return int(math.exp(rng.uniform(math.log(6_000_000), math.log(30_000_000))))
    return int(math.exp(rng.uniform(math.log(30_000_000), math.log(120_000_000))))


# -- the plan for one customer ------------------------------------------------------------


@dataclass
class _Plan:
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
class _Relation:
    a: int  # plan index
    b: int
    kind: str  # b is a's <kind>
    note: str = ""


class _Generator:
    """Plans customers and everything hanging off them; no database access."""

    def __init__(self, seed: int, now: datetime, policy: Policy) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed)
        self.now = now
        self.today = now.astimezone(SHANGHAI).date()
        self.policy = policy
        self.ids: set[str] = set()
        self.phones: set[str] = set()
        self.plans: list[_Plan] = []
        self.relations: list[_Relation] = []
        self.products = D.PRODUCTS
        book = [(s[0], s[3], s[5]) for s in D.STAFF if s[5] > 0]
        self.book_rms = [b[0] for b in book]
        self.book_weights = [b[2] for b in book]
        self.rm_branch = {b[0]: b[1] for b in book}

    # identifiers ---------------------------------------------------------------------

    def resident_id(self, area: str, birth: date, gender: str) -> str:
        while True:
            seq = self.rng.randint(0, 99)
            g = self.rng.choice((1, 3, 5, 7, 9) if gender == "M" else (0, 2, 4, 6, 8))
            first17 = f"{area}{birth:%Y%m%d}{seq:02d}{g}"
            value = first17 + id_check_digit(first17)
            if value not in self.ids:
                self.ids.add(value)
                return value

    def mobile(self) -> str:
        while True:
            value = self.rng.choice(D.MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if value not in self.phones:
                self.phones.add(value)
                return value

    def bank_card(self) -> str:
        body = self.rng.choice(D.BANK_CARD_BINS)
        length = self.rng.choice((16, 19))
        body += "".join(str(self.rng.randrange(10)) for _ in range(length - len(body) - 1))
        return luhn_complete(body)

    def area_for(self, branch: str) -> str:
        pool = D.AREA_CODES[branch] if self.rng.random() < 0.65 else D.AREA_CODES["other"]
        return self.rng.choice(pool)

    def address(self, branch: str) -> str:
        city, district, streets = self.rng.choice(D.DISTRICTS[branch])
        street = self.rng.choice(streets)
        no = self.rng.randint(1, 399)
        if city == "北京市":
            return (f"{city}{district}{street}{no}号院{self.rng.randint(1, 12)}号楼"
                    f"{self.rng.randint(1, 6)}单元{self.rng.randint(1, 28)}{self.rng.randint(1, 4):02d}室")
        return (f"{city}{district}{street}{no}弄{self.rng.randint(1, 60)}号"
                f"{self.rng.randint(1, 32)}{self.rng.randint(1, 4):02d}室")

    def email_for(self, name: str) -> str:
        from crm_tui.domain.customer_fields import name_pinyin

        full, _ = name_pinyin(name)
        if not full or self.rng.random() < 0.35:
            return ""
        return f"{full}{self.rng.randint(1, 999)}@{self.rng.choice(D.EMAIL_DOMAINS)}"

    # distributions -------------------------------------------------------------------

    def birth_for_age(self, age: int) -> date:
        """A birthday that makes the customer exactly `age` today."""
        anchor = self.today.replace(year=self.today.year - age, day=min(self.today.day, 28))
        return anchor - timedelta(days=self.rng.randint(0, 360))

    def random_age(self) -> int:
        return max(22, min(85, int(self.rng.triangular(22, 86, 44))))

    def random_aum(self, institutional: bool = False) -> int:
        return pyramid_aum(self.rng, institutional)

    def random_risk(self, age: int, aum: int) -> str:
        if age >= 65:
            weights = (0.40, 0.38, 0.20, 0.02, 0.0)
        elif aum >= 6_000_000:
            weights = (0.04, 0.20, 0.36, 0.28, 0.12)
        else:
            weights = (0.08, 0.25, 0.35, 0.22, 0.10)
        return self.rng.choices(tuple(RISK_RANK), weights)[0]

    def random_since(self, age: int | None) -> datetime:
        days = self.rng.uniform(60, 15 * 365)
        if age is not None:
            days = min(days, (age - 18) * 365)
        return self.now - timedelta(days=max(days, 30))

    def occupation(self, age: int) -> tuple[str, int]:
        occ = D.RETIRED if age >= 62 else self.rng.choice(D.OCCUPATIONS)
        return occ[0], self.rng.randint(occ[1] // 1000, occ[2] // 1000) * 1000

    # people ----------------------------------------------------------------------------

    def person(self, rm: str, *, name: str | None = None, gender: str | None = None,
               age: int | None = None, surname: str | None = None, **over: Any) -> _Plan:
        branch = self.rm_branch[rm]
        gender = gender or self.rng.choice("MF")
        age = age if age is not None else self.random_age()
        if name is None:
            if surname:
                given = (self.fake.first_name_male() if gender == "M"
                         else self.fake.first_name_female())
                name = surname + given
            else:
                name = self.fake.name_male() if gender == "M" else self.fake.name_female()
        birth = self.birth_for_age(age)
        occupation, income = self.occupation(age)
        aum = over.pop("aum_yuan", None)
        aum = self.random_aum() if aum is None else aum
        risk_state = over.pop("risk_state", None) or self.rng.choices(RISK_STATES, RISK_WEIGHTS)[0]
        risk = over.pop("risk", None) or self.random_risk(age, aum)
        plan = _Plan(
            kind="individual", name=name, rm=rm, branch=branch,
            national_id=self.resident_id(self.area_for(branch), birth, gender),
            phone=self.mobile(), since=self.random_since(age), gender=gender, birth=birth,
            bank_account=self.bank_card() if self.rng.random() < 0.85 else "",
            email=self.email_for(name), address=self.address(branch), occupation=occupation,
            income_yuan=income, goals=self.rng.choice(D.GOALS) if self.rng.random() < 0.7 else "",
            aum_yuan=aum, risk=None if risk_state == "missing" else risk, risk_state=risk_state,
            surname=surname or name[0],
        )
        plan.kyc = {k: self.rng.choices(KYC_STATES, KYC_WEIGHTS)[0]
                    for k in self._doc_kinds("individual")}
        for key, value in over.items():
            setattr(plan, key, value)
        return plan

    def institution(self, rm: str, **over: Any) -> _Plan:
        branch = self.rm_branch[rm]
        city = "北京" if branch == "BJ01" else "上海"
        name = f"{city}{self.fake.company_prefix()}{self.rng.choice(D.COMPANY_SUFFIXES)}"
        area = self.rng.choice(D.AREA_CODES[branch])
        while True:
            code = credit_code(area, f"{self.rng.randrange(10**8):08d}")
            if code not in self.ids:
                self.ids.add(code)
                break
        aum = self.random_aum(institutional=True)
        risk_state = self.rng.choices(RISK_STATES, RISK_WEIGHTS)[0]
        plan = _Plan(
            kind="institutional", name=name, rm=rm, branch=branch, national_id=code,
            phone=self.mobile(), since=self.random_since(None),
            bank_account=self.bank_card(), email="", address=self.address(branch),
            occupation=self.rng.choice(D.INDUSTRIES),
            income_yuan=self.rng.randint(2_000, 80_000) * 1000,
            goals="企业经营资金周转与闲置资金管理", aum_yuan=aum,
            risk=None if risk_state == "missing" else self.rng.choice(("C2", "C3", "C3", "C4")),
            risk_state=risk_state,
        )
        plan.kyc = {k: self.rng.choices(KYC_STATES, KYC_WEIGHTS)[0]
                    for k in self._doc_kinds("institutional")}
        for key, value in over.items():
            setattr(plan, key, value)
        return plan

    def _doc_kinds(self, kind: str) -> list[str]:
        return [k for k in self.policy.kyc.for_kind(kind).required if k != "risk_questionnaire"]

    def add(self, plan: _Plan) -> int:
        self.plans.append(plan)
        return len(self.plans) - 1

    def relate(self, a: int, b: int, kind: str, note: str = "") -> None:
        self.relations.append(_Relation(a, b, kind, note))

    # the book --------------------------------------------------------------------------

    def showcase(self) -> None:
        """rm1's best-known customers: every part of the 360° screen has something to show."""
        all_ok = {"id_proof": "ok", "address_proof": "ok"}
        zs = self.add(self.person(
            "rm1", name="张三", gender="M", age=46, aum_yuan=8_650_000, risk="C4",
            risk_state="valid", kyc=dict(all_ok), occupation="企业主", income_yuan=2_400_000,
            goals="家庭财富传承，兼顾子女海外留学资金", interactions=32,
            manual_tags=["企业主", "重点维护", "子女教育"]))
        wife = self.add(self.person(
            "rm1", name="李梅", gender="F", age=44, aum_yuan=2_380_000, risk="C3",
            risk_state="expiring", kyc=dict(all_ok), occupation="高校教师", interactions=9))
        son = self.add(self.person(
            "rm1", name="张子涵", gender="M", age=23, aum_yuan=86_000, risk="C4",
            risk_state="valid", kyc={"id_proof": "ok", "address_proof": "pending"},
            occupation="软件工程师", interactions=4))
        father = self.add(self.person(
            "rm1", name="张建国", gender="M", age=75, aum_yuan=1_260_000, risk="C1",
            risk_state="expired", kyc={"id_proof": "expiring", "address_proof": "expired"},
            interactions=7, manual_tags=["养老客群"]))
        company = self.add(self.institution(
            "rm1", name="北京恒通达科技有限公司", aum_yuan=12_800_000, risk="C3",
            risk_state="valid", occupation="软件和信息技术服务业", interactions=10,
            kyc={"business_license": "ok", "legal_rep_id": "ok", "beneficial_owner": "expiring"}))
        partner = self.add(self.person(
            "rm1", name="赵德明", gender="M", age=53, aum_yuan=36_500_000, risk="C3",
            risk_state="valid", kyc={"id_proof": "expiring", "address_proof": "ok"},
            occupation="企业主", interactions=24, manual_tags=["企业主", "重点维护"]))
        self.add(self.person(
            "rm1", name="陈志强", gender="M", age=38, aum_yuan=2_300_000, risk="C5",
            risk_state="valid", kyc=dict(all_ok), occupation="金融从业人员",
            active_trader=True, interactions=12))
        self.add(self.person(
            "rm1", name="刘秀英", gender="F", age=78, aum_yuan=1_150_000, risk="C1",
            risk_state="expired", kyc={"id_proof": "ok", "address_proof": "expired"},
            interactions=8, manual_tags=["养老客群"]))
        self.add(self.person(
            "rm1", name="周晓梅", gender="F", age=29, aum_yuan=52_000, risk_state="missing",
            kyc={"id_proof": "pending", "address_proof": "missing"}, interactions=2,
            since=self.now - timedelta(days=12), manual_tags=["新市民"]))
        self.add(self.person(
            "rm1", name="黄立新", gender="M", age=41, aum_yuan=640_000, risk="C2",
            risk_state="valid", kyc={"id_proof": "ok", "address_proof": "rejected"},
            interactions=5))
        self.relate(zs, wife, "spouse", "配偶")
        self.relate(son, zs, "parent", "父子")
        self.relate(zs, father, "parent", "父子")
        self.relate(company, zs, "influencer", "法定代表人、实际控制人")
        self.relate(zs, partner, "business_partner", "合作伙伴，共同投资物流项目")
        self.relate(father, wife, "household", "同住")

    def household(self, budget: int) -> None:
        """One family (or a company and its owner) sharing an RM; at most `budget` people."""
        rm = self.rng.choices(self.book_rms, self.book_weights)[0]
        shape = self.rng.choices(("single", "couple", "family", "parent_child", "company"),
                                 (0.55, 0.23, 0.10, 0.07, 0.05))[0]
        if shape == "single" or budget == 1:
            self.add(self.person(rm))
            return
        if shape == "company":
            owner = self.add(self.person(rm, age=self.rng.randint(32, 62), occupation="企业主"))
            co = self.add(self.institution(rm))
            self.relate(co, owner, "influencer", "法定代表人")
            if budget >= 3 and self.rng.random() < 0.4:
                cfo = self.add(self.person(rm, age=self.rng.randint(30, 55),
                                           occupation="注册会计师"))
                self.relate(co, cfo, "influencer", "财务负责人")
                self.relate(owner, cfo, "business_partner", "")
            return
        if shape == "parent_child":
            parent_age = self.rng.randint(58, 85)
            parent = self.add(self.person(rm, age=parent_age))
            surname = self.plans[parent].surname
            child = self.add(self.person(rm, age=max(22, parent_age - self.rng.randint(24, 34)),
                                         surname=surname))
            self.relate(child, parent, "parent")
            if parent_age >= 70 and self.rng.random() < 0.5:
                self.relate(parent, child, "influencer", "理财决策参考子女意见")
            return
        age = self.rng.randint(28, 75) if shape == "couple" else self.rng.randint(48, 75)
        head = self.add(self.person(rm, gender="M", age=age))
        spouse = self.add(self.person(rm, gender="F", age=max(22, age + self.rng.randint(-5, 3)),
                                      address=self.plans[head].address))
        self.relate(head, spouse, "spouse")
        if shape == "family" and budget >= 3:
            child = self.add(self.person(rm, age=max(22, age - self.rng.randint(24, 32)),
                                         surname=self.plans[head].surname))
            self.relate(child, head, "parent")
            self.relate(child, spouse, "parent")

    def build(self, customers: int) -> None:
        self.showcase()
        showcased = len(self.plans)
        while len(self.plans) < customers:
            self.household(customers - len(self.plans))
        del self.plans[customers:]
        self.relations = [r for r in self.relations if r.a < customers and r.b < customers]
        for i, plan in enumerate(self.plans):
            if (i >= showcased and plan.kind == "individual" and plan.risk in ("C4", "C5")
                    and plan.risk_state != "missing" and plan.tier != "dormant"
                    and self.rng.random() < 0.12):
                plan.active_trader = True
            self.plan_risk(plan)
            self.plan_kyc(plan)
            self.plan_holdings(plan)
            self.plan_trades(plan)
            self.plan_interactions(plan)
            self.plan_tags(plan)

    # dated facts -------------------------------------------------------------------------

    def at_local(self, day: date, start: int = 9, end: int = 18) -> datetime:
        minutes = self.rng.randint(start * 60, end * 60 - 1)
        local = datetime.combine(day, time(minutes // 60, minutes % 60), SHANGHAI)
        return local.astimezone(UTC)

    def _earlier(self, plan: _Plan, when: datetime) -> None:
        """A fact dated before the customer joined moves the joining date back."""
        if when < plan.since:
            plan.since = when - timedelta(days=self.rng.randint(1, 30))

    def plan_risk(self, plan: _Plan) -> None:
        if plan.risk_state == "missing" or plan.risk is None:
            return
        validity = self.policy.risk_assessment.validity_days
        warn = self.policy.risk_assessment.expiry_warning_days
        offset = {"valid": (warn + 2, validity - 1), "expiring": (1, max(1, warn - 2)),
                  "expired": (-500, -1)}[plan.risk_state]
        valid_until = self.today + timedelta(days=self.rng.randint(*offset))
        assessed = self.at_local(valid_until - timedelta(days=validity))
        history = [(assessed, valid_until, plan.risk)]
        for _ in range(self.rng.choice((0, 0, 1, 2))):
            assessed = assessed - timedelta(days=validity + self.rng.randint(0, 60))
            level = plan.risk if self.rng.random() < 0.7 else self.rng.choice(tuple(RISK_RANK))
            history.append((assessed, assessed.date() + timedelta(days=validity), level))
        for when, until, level in reversed(history):
            self._earlier(plan, when)
            plan.assessments.append(self._assessment(plan, when, until, level))

    def _assessment(self, plan: _Plan, when: datetime, until: date, level: str) -> dict[str, Any]:
        rank = RISK_RANK[level]
        answers = {q: min(5, max(1, rank + self.rng.choice((-1, 0, 0, 1)))) for q in D.RISK_QUESTIONS}
        score = {1: 12, 2: 28, 3: 45, 4: 66, 5: 86}[rank] + self.rng.randint(-3, 3)
        return {"answers": answers, "score": score, "level": level, "assessed_at": when,
                "valid_until": until, "assessed_by": plan.rm}

    def plan_kyc(self, plan: _Plan) -> None:
        warn = self.policy.risk_assessment.expiry_warning_days
        for kind, state in plan.kyc.items():
            if state == "missing":
                continue
            validity = self.policy.kyc.validity_days.get(kind, 3650)  # type: ignore[call-overload]
            if state == "pending":
                when = self.at_local(self.today - timedelta(days=self.rng.randint(0, 20)))
                self._earlier(plan, when)
                plan.docs.append(self._doc(kind, "pending", when, None, None, plan))
                continue
            if state == "rejected":
                when = self.at_local(self.today - timedelta(days=self.rng.randint(3, 90)))
                self._earlier(plan, when)
                plan.docs.append(self._doc(kind, "rejected", when, None, None, plan))
                continue
            span = {"ok": (warn + 5, min(3000, validity - 5)), "expiring": (1, max(1, warn - 2)),
                    "expired": (-400, -1)}[state]
            expiry = self.today + timedelta(days=self.rng.randint(*span))
            if kind in DATED_DOCS:
                verified = self.at_local(self.today - timedelta(days=self.rng.randint(30, 1500)))
                if verified.date() >= expiry:
                    verified = self.at_local(expiry - timedelta(days=self.rng.randint(30, 400)))
                plan.docs.append(self._doc(kind, "verified", verified, verified, expiry, plan))
            else:
                verified = self.at_local(expiry - timedelta(days=validity))
                plan.docs.append(self._doc(kind, "verified", verified, verified, None, plan))
            self._earlier(plan, plan.docs[-1]["uploaded_at"])
            if state == "ok" and kind in DATED_DOCS and self.rng.random() < 0.15:
                old = verified - timedelta(days=self.rng.randint(3000, 3600))
                if old.date() > (plan.birth or date(1900, 1, 1)) + timedelta(days=16 * 365):
                    self._earlier(plan, old)
                    plan.docs.append(self._doc(kind, "verified", old, old,
                                               verified.date() - timedelta(days=20), plan))

    def _doc(self, kind: str, status: str, when: datetime, verified: datetime | None,
             expires: date | None, plan: _Plan) -> dict[str, Any]:
        uploaded = when - timedelta(days=self.rng.randint(0, 3), minutes=self.rng.randint(0, 300))
        note_key = "verified" if status == "verified" else status
        return {"kind": kind, "status": status, "expires_on": expires,
                "verified_by": plan.rm if verified else None, "verified_at": verified,
                "uploaded_at": uploaded, "note": self.rng.choice(D.KYC_NOTES[note_key])}

    def suitable(self, plan: _Plan) -> list[tuple[str, str, str, str]]:
        limit = RISK_RANK.get(plan.risk or "C1", 1) if plan.risk_state != "missing" else 1
        return [p for p in self.products if PRODUCT_RANK[p[3]] <= limit]

    def plan_holdings(self, plan: _Plan) -> None:
        if plan.aum_yuan <= 0:
            return
        choices = self.suitable(plan)
        deposits = [p for p in choices if p[2] == "deposit"]
        others = [p for p in choices if p[2] != "deposit"]
        if plan.kind == "individual" and plan.birth and self.today.year - plan.birth.year >= 65:
            others = [p for p in others if p[2] in ("wealth", "bond", "insurance", "structured")]
        n = {"mass": (1, 3), "affluent": (2, 5), "hnw": (3, 7), "private": (5, 9)}[plan.tier]
        if plan.active_trader:
            n = (4, 7)
        count = self.rng.randint(*n)
        picked = [self.rng.choice(deposits)]
        pool = [p for p in others if p[2] == "fund"] if plan.active_trader else others
        pool = pool + [p for p in deposits if p is not picked[0]]
        self.rng.shuffle(pool)
        picked += pool[: count - 1]
        weights = [self.rng.random() ** 1.5 + 0.05 for _ in picked]
        total = sum(weights)
        remaining = plan.aum_yuan * 100
        for i, (product, w) in enumerate(zip(picked, weights, strict=True)):
            fen = remaining if i == len(picked) - 1 else int(plan.aum_yuan * w / total) * 100
            fen = max(0, min(fen, remaining))
            remaining -= fen
            if fen > 0:
                plan.holdings.append((product[0], fen))
        plan.aum_yuan = sum(f for _, f in plan.holdings) // 100

    def plan_trades(self, plan: _Plan) -> None:
        start = max(plan.since, self.now - timedelta(days=3 * 365))
        span = max(1, (self.now - start).days - 7)
        for code, fen in plan.holdings:
            if code.startswith("DP"):
                continue
            bought = self.at_local((start + timedelta(days=self.rng.randint(0, span))).date())
            plan.trades.append(self._trade(plan, code, "subscription", fen, bought))
            if self.rng.random() < 0.3:
                later = bought + timedelta(days=self.rng.randint(1, 200))
                if later < self.now - timedelta(hours=1):
                    plan.trades.append(self._trade(plan, code, "redemption",
                                                   max(100, fen // self.rng.randint(3, 10)), later))
        if plan.active_trader:
            funds = [c for c, _ in plan.holdings if c.startswith("FD")] or ["FD0001"]
            for _ in range(self.rng.randint(22, 40)):
                when = self.at_local(self.today - timedelta(days=self.rng.randint(1, 80)), 9, 15)
                kind = self.rng.choice(("subscription", "redemption"))
                amount = self.rng.randint(20, 500) * 100_00
                plan.trades.append(self._trade(plan, self.rng.choice(funds), kind, amount, when))
        if plan.tier in ("hnw", "private") and self.rng.random() < 0.15:
            for _ in range(self.rng.randint(1, 3)):
                when = self.at_local(self.today - timedelta(days=self.rng.randint(5, 600)))
                trade = self._trade(plan, None, "cross_border",
                                    self.rng.randint(5, 50) * 10_000_00, when)
                trade["currency"] = self.rng.choice(("USD", "HKD"))
                plan.trades.append(trade)

    def _trade(self, plan: _Plan, code: str | None, kind: str, fen: int,
               when: datetime) -> dict[str, Any]:
        status = "executed" if self.rng.random() < 0.97 else "cancelled"
        return {"product": code, "kind": kind, "amount_fen": fen, "currency": "CNY",
                "occurred_at": when, "status": status,
                "staff": plan.rm if self.rng.random() < 0.6 else None}

    def plan_interactions(self, plan: _Plan) -> None:
        if not plan.interactions:
            low, high = {"dormant": (0, 3), "mass": (1, 6), "affluent": (4, 12), "hnw": (10, 24),
                         "private": (18, 36)}[plan.tier]
            plan.interactions = self.rng.randint(low, high)
        age = self.today.year - plan.birth.year if plan.birth else 45
        band = "young" if age < 36 else "senior" if age >= 62 else "middle"
        weights = D.CHANNELS_BY_AGE[band]
        start = max(plan.since, self.now - timedelta(days=730))
        span = max(0, (self.now - start).days)
        names = [self._product_name(c) for c, _ in plan.holdings] or [
            p[1] for p in self.suitable(plan)]
        service = "svc1" if plan.branch == "BJ01" else "svc2"
        for _ in range(plan.interactions):
            channel = self.rng.choices(D.CHANNELS, weights)[0]
            subject, summary, action, due_days = self.rng.choice(D.INTERACTIONS[channel])
            day = (start + timedelta(days=self.rng.randint(0, span))).astimezone(SHANGHAI).date()
            hours = {"branch": (9, 17), "phone": (9, 19), "wechat": (8, 22), "email": (9, 18)}
            when = self.at_local(day, *hours.get(channel, (7, 23)))
            if when > self.now:
                when = self.now - timedelta(minutes=self.rng.randint(5, 600))
            local = when.astimezone(SHANGHAI)
            amount = max(1, int(plan.aum_yuan * self.rng.uniform(0.05, 0.4)) // 10_000)
            text = summary.format(product=self.rng.choice(names), amount=amount,
                                  rm=plan.rm, month=local.month)
            if channel in ("mobile_app", "web"):
                staff = None if self.rng.random() < 0.6 else service
            elif channel == "phone" and self.rng.random() < 0.2:
                staff = service
            else:
                staff = plan.rm
            plan.touches.append({
                "channel": channel, "occurred_at": when, "subject": subject, "summary": text,
                "next_action": action,
                "next_action_due": local.date() + timedelta(days=due_days) if action else None,
                "staff": staff,
            })

    def plan_tags(self, plan: _Plan) -> None:
        if plan.kind != "individual" or plan.manual_tags:
            return
        age = self.today.year - plan.birth.year if plan.birth else 45
        r = self.rng.random
        if plan.occupation == "企业主" and r() < 0.7:
            plan.manual_tags.append("企业主")
        if age >= 60 and r() < 0.5:
            plan.manual_tags.append("养老客群")
        if age < 60 and plan.occupation != "企业主" and r() < 0.2:
            plan.manual_tags.append("代发工资客户")
        if plan.tier in ("hnw", "private") and r() < 0.5:
            plan.manual_tags.append("重点维护")
        if 35 <= age <= 52 and r() < 0.15:
            plan.manual_tags.append("子女教育")
        if plan.national_id[:2] not in ("11", "31") and age < 40 and r() < 0.3:
            plan.manual_tags.append("新市民")
        if plan.tier != "dormant" and r() < 0.03:
            plan.manual_tags.append("潜在流失")

    def _product_name(self, code: str) -> str:
        return next(p[1] for p in self.products if p[0] == code)


# -- writing ----------------------------------------------------------------------------


def _is_empty(session: Session) -> bool:
    return not (session.scalar(select(func.count()).select_from(Staff))
                or session.scalar(select(func.count()).select_from(Customer)))


def _insert_ids(session: Session, table: Any, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Executemany that hands back the new ids in row order (SQLite and PostgreSQL)."""
    if not rows:
        return []
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return [r[0] for r in session.execute(stmt, list(rows))]


def _bulk(session: Session, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(table), list(rows))


def _customer_rows(crm: Crm, plans: list[_Plan], branch_ids: dict[str, int],
                   staff_ids: dict[str, int], today: date, now: datetime) -> list[dict[str, Any]]:
    rows = []
    for i, p in enumerate(plans):
        raw = {"name": p.name, "kind": p.kind, "national_id": p.national_id, "phone": p.phone,
               "bank_account": p.bank_account, "email": p.email, "gender": p.gender,
               "address": p.address, "occupation": p.occupation,
               "id_type": "business_license" if p.kind == "institutional" else "resident_id",
               "annual_income": str(p.income_yuan)}
        clean, errors = clean_customer(raw, row=i + 1, today=today)
        if clean is None:  # the generator made something the app would refuse: a bug here
            raise ValueError("; ".join(e.line() for e in errors))
        row = customer_row(crm.keys, clean, branch_id=branch_ids[p.branch], rm_id=staff_ids[p.rm])
        latest = max(p.assessments, key=lambda a: a["assessed_at"]) if p.assessments else None
        row.update(
            goals=p.goals, aum_fen=sum(f for _, f in p.holdings),
            risk_level=latest["level"] if latest else None,
            risk_valid_until=latest["valid_until"] if latest else None,
            created_at=p.since, updated_at=max(p.since, now - timedelta(days=(i * 7919) % 120)),
        )
        rows.append(row)
    return rows


def seed_demo(crm: Crm, actor: Actor, *, customers: int = 3000, password: str, seed: int = 7,
              now: datetime | None = None) -> list[Login]:
    """Fill an empty, migrated database with a demo branch; returns (username, role, name)
    for every login, all with `password`. `now` pins the clock (tests compare two runs)."""
    require(actor, Perm.STAFF_MANAGE)
    require(actor, Perm.DATA_IMPORT)
    now = now or datetime.now(UTC)
    policy = crm.policy()
    gen = _Generator(seed, now, policy)
    gen.build(max(customers, 1))
    pw_hash = hash_password(password)  # argon2 is slow on purpose: hash once, share it

    with crm.db.write() as session:
        if not _is_empty(session):
            raise Blocked("demo.not_empty")
        branch_ids = dict(zip(
            [b[0] for b in D.BRANCHES],
            _insert_ids(session, Branch.__table__,
                        [{"code": c, "name": n, "region": r} for c, n, r in D.BRANCHES]),
            strict=True))
        team_ids = dict(zip(
            [t[0] for t in D.TEAMS],
            _insert_ids(session, Team.__table__,
                        [{"name": n, "branch_id": branch_ids[b]} for n, b in D.TEAMS]),
            strict=True))
        hired = now - timedelta(days=3 * 365)
        staff_rows = [
            {"username": u, "display_name": n, "role": r, "branch_id": branch_ids.get(b or ""),
             "team_id": team_ids.get(t or ""), "password_hash": pw_hash, "active": True,
             "team_visibility": False, "failed_logins": 0, "created_at": hired}
            for u, n, r, b, t, _ in D.STAFF
        ]
        staff_ids = dict(zip([s[0] for s in D.STAFF],
                             _insert_ids(session, Staff.__table__, staff_rows), strict=True))
        product_ids = dict(zip(
            [p[0] for p in D.PRODUCTS],
            _insert_ids(session, Product.__table__,
                        [{"code": c, "name": n, "category": k, "risk_level": r, "currency": "CNY",
                          "active": True} for c, n, k, r in D.PRODUCTS]),
            strict=True))

        cust_rows = _customer_rows(crm, gen.plans, branch_ids, staff_ids, gen.today, now)
        ids = _insert_ids(session, Customer.__table__, cust_rows)

        sid = staff_ids.get
        docs, assessments, holdings, trades, touches = [], [], [], [], []
        for cid, p in zip(ids, gen.plans, strict=True):
            docs += [dict(d, customer_id=cid, verified_by=sid(d["verified_by"] or ""))
                     for d in p.docs]
            assessments += [dict(a, customer_id=cid, assessed_by=sid(a["assessed_by"]))
                            for a in p.assessments]
            holdings += [{"customer_id": cid, "product_id": product_ids[code], "amount_fen": fen,
                          "updated_at": now} for code, fen in p.holdings]
            for t in p.trades:
                trades.append({
                    "customer_id": cid, "product_id": product_ids.get(t["product"] or ""),
                    "kind": t["kind"], "amount_fen": t["amount_fen"], "currency": t["currency"],
                    "occurred_at": t["occurred_at"], "status": t["status"],
                    "staff_id": sid(t["staff"] or ""), "external_ref": f"DEMO{len(trades) + 1:09d}",
                })
            touches += [{"customer_id": cid, "staff_id": sid(x["staff"] or ""),
                         "channel": x["channel"], "occurred_at": x["occurred_at"],
                         "subject": x["subject"], "summary": x["summary"],
                         "next_action": x["next_action"], "next_action_due": x["next_action_due"],
                         "created_at": x["occurred_at"]} for x in p.touches]
        _bulk(session, KycDocument.__table__, docs)
        _bulk(session, RiskAssessment.__table__, assessments)
        _bulk(session, Holding.__table__, holdings)
        _bulk(session, Trade.__table__, trades)
        touches.sort(key=lambda x: (x["occurred_at"], x["customer_id"]))
        _bulk(session, Interaction.__table__, touches)
        _bulk(session, Relationship.__table__, [
            {"customer_id": ids[r.a], "related_id": ids[r.b], "kind": r.kind, "note": r.note}
            for r in gen.relations])

        tag_ids = dict(zip(
            [t[0] for t in D.MANUAL_TAGS],
            _insert_ids(session, Tag.__table__,
                        [{"name": n, "name_en": e, "kind": "manual"} for n, e in D.MANUAL_TAGS]),
            strict=True))
        links = [{"customer_id": cid, "tag_id": tag_ids[name], "source": "manual",
                  "added_by": staff_ids[p.rm], "added_at": max(p.since, now - timedelta(days=90))}
                 for cid, p in zip(ids, gen.plans, strict=True) for name in p.manual_tags]
        _bulk(session, CustomerTag.__table__, links)
        rule_counts = evaluate_rule_tags(session, policy)

        counts = {
            "seed": seed, "branches": len(branch_ids), "staff": len(staff_ids),
            "customers": len(ids), "kyc_documents": len(docs),
            "risk_assessments": len(assessments), "products": len(product_ids),
            "holdings": len(holdings), "trades": len(trades), "interactions": len(touches),
            "relationships": len(gen.relations), "manual_tags": len(links),
            "rule_tags": rule_counts,
        }
        audit.record(crm.db, session, actor, "demo.seed", "database", "", None, counts)
    seed_compliance(crm, actor, now)
    return [(u, r, n) for u, n, r, *_ in D.STAFF]

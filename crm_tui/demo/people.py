"""Demo people: valid identifiers, the branch's AUM pyramid, customers and households.

`credit_code`, `luhn_complete` and `pyramid_aum` are used by the bench generator too.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta
from typing import Any

from crm_tui.demo import data as D
from crm_tui.demo.plan import (
    KYC_STATES,
    KYC_WEIGHTS,
    RISK_RANK,
    RISK_STATES,
    RISK_WEIGHTS,
    Plan,
    PlannerBase,
    Relation,
)
from crm_tui.domain.kernel.validation import id_check_digit

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



class PeoplePlanner(PlannerBase):
    """Plans customers (individuals, companies) and the households that tie them together."""

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
        from crm_tui.domain.customers.fields import name_pinyin

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
               age: int | None = None, surname: str | None = None, **over: Any) -> Plan:
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
        plan = Plan(
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

    def institution(self, rm: str, **over: Any) -> Plan:
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
        plan = Plan(
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

    def add(self, plan: Plan) -> int:
        self.plans.append(plan)
        return len(self.plans) - 1

    def relate(self, a: int, b: int, kind: str, note: str = "") -> None:
        self.relations.append(Relation(a, b, kind, note))

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

"""The bench database: 1M customers and 5M interactions (times BENCH_SCALE), built once and
cached under `bench/data/`, keyed by size, schema revision and generator version.

The schema comes from the real migrations (`init_database`). Rows go in with raw sqlite3
executemany for speed, but they are the rows the app writes: AES-GCM ciphertext and HMAC
blind indexes from the database's own key ring, pinyin columns from `name_pinyin`, money in
fen, UTC timestamps in SQLAlchemy's SQLite format. Encrypting a million rows is the slow part,
so a process pool builds customer chunks while the main process inserts them. Rule tags are
computed by the domain's own `evaluate_rule_tags`. When only the schema moved on, a cached
database of the same size is brought forward with the app's own migrations instead of being
generated again.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import random
import sqlite3
import sys
import time
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

from crm_tui.demo import data as D
from crm_tui.demo.people import credit_code, luhn_complete, pyramid_aum
from crm_tui.domain.kernel.validation import id_check_digit

GENERATOR_VERSION = 1
DATA = Path(__file__).with_name("data")
CHUNK = 5_000
SEED = 20240601
BULK_TABLES = ("customer", "interaction", "holding", "kyc_document", "risk_assessment", "trade",
               "relationship", "customer_tag")
RISK = ("C1", "C2", "C3", "C4", "C5")
PRODUCT_RANK = {"R1": 1, "R2": 2, "R3": 3, "R4": 4, "R5": 5}
KYC_STATES = ("ok", "expiring", "expired", "pending", "rejected", "missing")
KYC_WEIGHTS = (0.73, 0.05, 0.06, 0.05, 0.05, 0.06)
CUSTOMER_COLUMNS = (
    "id", "kind", "name", "name_pinyin", "name_initials", "id_type", "national_id_enc",
    "national_id_bidx", "phone_enc", "phone_bidx", "phone_last4", "bank_account_enc",
    "bank_account_bidx", "email", "birth_date", "gender", "address", "occupation",
    "annual_income_fen", "goals", "risk_level", "risk_valid_until", "aum_fen", "branch_id",
    "rm_id", "status", "created_at", "updated_at", "version",
)
HOLDING_COLUMNS = ("customer_id", "product_id", "amount_fen", "units_e4", "currency", "updated_at")
KYC_COLUMNS = ("customer_id", "kind", "status", "expires_on", "verified_by", "verified_at",
               "uploaded_at", "note")
RISK_COLUMNS = ("customer_id", "answers", "score", "level", "assessed_at", "valid_until",
                "assessed_by")
TRADE_COLUMNS = ("customer_id", "product_id", "kind", "amount_fen", "currency", "occurred_at",
                 "status", "staff_id", "external_ref")
INTERACTION_COLUMNS = ("customer_id", "staff_id", "channel", "occurred_at", "subject", "summary",
                       "next_action", "next_action_due", "created_at")
RELATION_COLUMNS = ("customer_id", "related_id", "kind", "note")

GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红玲芬燕彬鹏辉斌宇浩凯健俊帆帅旭宁龙"
    "林欢阳建国志文海波晨思雨欣怡佳子涵梓轩博睿嘉琪雪婷慧颖晓天一诗可悦家成永春金荣德新立振云飞"
    "东亮清宏卫冬梅琳倩莉蕾璐晶月淑珍凤素宝鑫泽奕铭昊瑞霖楠雅馨妍晗蓉琦婉安心乐若依语萱紫晴豪岩"
    "哲毅峰松杨庆祥福贵才生胜武学义利芸媛莹菲"
)


def ts(value: datetime) -> str:
    """A UTC datetime as SQLAlchemy stores it in SQLite."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


@dataclass(frozen=True)
class Spec:
    scale: float
    customers: int
    interactions: int

    @classmethod
    def from_scale(cls, scale: float) -> Spec:
        customers = max(2_000, round(1_000_000 * scale))
        return cls(scale, customers, 5 * customers)


@dataclass(frozen=True)
class Org:
    """What a worker needs to know about the organisation (plain data, picklable)."""

    rm_ids: tuple[int, ...]
    rm_branch: tuple[int, ...]
    branch_city: dict[int, str]
    branch_verifier: dict[int, int]
    products: tuple[tuple[int, str, str, int], ...]  # id, code, category, rank
    now: datetime
    kyc_required: dict[str, tuple[str, ...]]
    kyc_validity: dict[str, int]
    risk_validity: int
    risk_warning: int


def log(msg: str) -> None:
    print(f"  [gen] {msg}", file=sys.stderr, flush=True)


def database_path(spec: Spec) -> Path:
    from crm_tui.store.migrate import head_revision

    return DATA / f"crm-{spec.customers}-{head_revision() or 'base'}-g{GENERATOR_VERSION}.db"


def key_path(db: Path) -> Path:
    return Path(f"{db}.key")  # where `open_crm` looks for a SQLite file's key


# -- worker side: one chunk of customers and what hangs off each ------------------------

_W: dict[str, Any] = {}


def _worker_init(key_json: str, org: Org) -> None:
    from faker.providers.company.zh_CN import Provider as Company
    from faker.providers.person.zh_CN import Provider as Person

    from crm_tui.domain.customers.fields import name_pinyin
    from crm_tui.store.crypto import Keyring

    surnames = list(Person.last_names)
    _W.update(
        keys=Keyring.from_json(key_json), org=org, pinyin=name_pinyin, cache={},
        surnames=surnames, surname_cw=list(accumulate(Person.last_names.values())),
        male=Person.first_names_male, female=Person.first_names_female,
        company=Company.company_prefixes,
    )


def _pinyin(name: str) -> tuple[str, str]:
    cache = _W["cache"]
    hit = cache.get(name)
    if hit is None:
        hit = cache[name] = _W["pinyin"](name)
    return hit


def resident_id(rng: random.Random, area: str, birth: date, gender: str) -> str:
    digit = rng.randrange(5) * 2 + (1 if gender == "M" else 0)
    first17 = f"{area}{birth:%Y%m%d}{rng.randrange(100):02d}{digit}"
    return first17 + id_check_digit(first17)


def mobile(rng: random.Random) -> str:
    return rng.choice(D.MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _address(rng: random.Random, city: str) -> str:
    town, district, streets = rng.choice(D.DISTRICTS[city])
    if town == "北京市":
        return (f"{town}{district}{rng.choice(streets)}{rng.randint(1, 399)}号院{rng.randint(1, 12)}号楼"
                f"{rng.randint(1, 6)}单元{rng.randint(1, 28)}{rng.randint(1, 4):02d}室")
    return (f"{town}{district}{rng.choice(streets)}{rng.randint(1, 399)}弄{rng.randint(1, 60)}号"
            f"{rng.randint(1, 32)}{rng.randint(1, 4):02d}室")


def _risk_for(rng: random.Random, age: int) -> str:
    weights = (0.40, 0.38, 0.20, 0.02, 0.0) if age >= 65 else (0.08, 0.25, 0.35, 0.22, 0.10)
    return rng.choices(RISK, weights)[0]


def make_chunk(task: tuple[int, int, int]) -> dict[str, Any]:
    """Customers `first_id … first_id+count-1` and their holdings, KYC, assessments, trades."""
    chunk_no, first_id, count = task
    rng = random.Random(SEED * 1_000_003 + chunk_no)
    org: Org = _W["org"]
    keys = _W["keys"]
    now = org.now
    today = now.date()
    out: dict[str, Any] = {"customers": [], "holdings": [], "kyc": [], "risk": [], "trades": [],
                           "rm_index": array("i"), "weight": array("f")}
    suitable = {rank: [p for p in org.products if p[3] <= rank] for rank in range(1, 6)}
    trade_no = first_id * 10
    for cid in range(first_id, first_id + count):
        rm_index = rng.randrange(len(org.rm_ids))
        rm_id, branch_id = org.rm_ids[rm_index], org.rm_branch[rm_index]
        city = org.branch_city[branch_id]
        institutional = rng.random() < 0.04
        if institutional:
            name = (f"{'北京' if city == 'BJ01' else '上海'}{rng.choice(_W['company'])}"
                    f"{rng.choice(D.COMPANY_SUFFIXES)}")
            national_id = credit_code(rng.choice(D.AREA_CODES[city]), f"{rng.randrange(10**8):08d}")
            id_type, birth, gender, age = "business_license", None, "", 45
            occupation = rng.choice(D.INDUSTRIES)
            income = rng.randint(2_000, 80_000) * 1000
        else:
            gender = rng.choice("MF")
            surname = rng.choices(_W["surnames"], cum_weights=_W["surname_cw"])[0]
            if rng.random() < 0.55:
                given = rng.choice(GIVEN_CHARS) + rng.choice(GIVEN_CHARS)
            else:
                given = rng.choice(_W["male"] if gender == "M" else _W["female"])
            name = surname + given
            age = max(22, min(85, int(rng.triangular(22, 86, 44))))
            birth = today.replace(year=today.year - age, day=min(today.day, 28)) - timedelta(
                days=rng.randint(0, 360))
            pool = D.AREA_CODES[city] if rng.random() < 0.65 else D.AREA_CODES["other"]
            national_id = resident_id(rng, rng.choice(pool), birth, gender)
            id_type = "resident_id"
            occ = D.RETIRED if age >= 62 else rng.choice(D.OCCUPATIONS)
            occupation, income = occ[0], rng.randint(occ[1] // 1000, occ[2] // 1000) * 1000
        full, initials = _pinyin(name)
        phone = mobile(rng)
        account = luhn_complete(rng.choice(D.BANK_CARD_BINS) + f"{rng.randrange(10**9):09d}") \
            if rng.random() < 0.85 else None
        email = (f"{full}{rng.randint(1, 999)}@{rng.choice(D.EMAIL_DOMAINS)}"
                 if not institutional and rng.random() < 0.55 else "")
        aum = pyramid_aum(rng, institutional)
        risk_state = rng.choices(("valid", "expiring", "expired", "missing"), (0.74, 0.07, 0.13, 0.06))[0]
        level = None if risk_state == "missing" else (
            rng.choice(("C2", "C3", "C3", "C4")) if institutional else _risk_for(rng, age))
        since = now - timedelta(days=rng.uniform(60, min(15 * 365, (age - 18) * 365)))
        valid_until = None
        if level:
            span = {"valid": (org.risk_warning + 2, org.risk_validity - 1),
                    "expiring": (1, org.risk_warning - 2), "expired": (-500, -1)}[risk_state]
            valid_until = today + timedelta(days=rng.randint(*span))
            assessed = datetime.combine(valid_until - timedelta(days=org.risk_validity),
                                        datetime.min.time(), UTC) + timedelta(hours=rng.uniform(1, 10))
            since = min(since, assessed - timedelta(days=1))
            rank = RISK.index(level) + 1
            answers = json.dumps({q: min(5, max(1, rank + rng.choice((-1, 0, 0, 1))))
                                  for q in D.RISK_QUESTIONS}, sort_keys=True)
            score = {1: 12, 2: 28, 3: 45, 4: 66, 5: 86}[rank] + rng.randint(-3, 3)
            out["risk"].append((cid, answers, score, level, ts(assessed), valid_until.isoformat(),
                                rm_id))
        # holdings: the AUM split over products suitable for the customer's level
        rank = RISK.index(level) + 1 if level else 1
        if aum > 0:
            tier = 0 if aum < 500_000 else 1 if aum < 6_000_000 else 2
            picks = [rng.choice([p for p in suitable[rank] if p[2] == "deposit"])]
            others = [p for p in suitable[rank] if p is not picks[0]]
            picks += rng.sample(others, min(len(others), rng.randint(0, (1, 3, 5)[tier])))
            weights = [rng.random() + 0.1 for _ in picks]
            total, left = sum(weights), aum * 100
            for i, (product, w) in enumerate(zip(picks, weights, strict=True)):
                fen = left if i == len(picks) - 1 else min(left, int(aum * w / total) * 100)
                left -= fen
                if fen <= 0:
                    continue
                out["holdings"].append((cid, product[0], fen, fen * 100, "CNY", ts(now)))
                if product[2] != "deposit":
                    trade_no += 1
                    when = since + timedelta(days=rng.uniform(0, max(1, (now - since).days - 1)))
                    out["trades"].append((cid, product[0], "subscription", fen, "CNY", ts(when),
                                          "executed", rm_id, f"B{trade_no:012d}"))
            if rank >= 4 and rng.random() < 0.025:  # an active trader
                funds = [p[0] for p in suitable[rank] if p[2] == "fund"]
                for _ in range(rng.randint(21, 40)):
                    trade_no += 1
                    when = now - timedelta(days=rng.uniform(1, 80))
                    out["trades"].append((cid, rng.choice(funds), rng.choice(("subscription", "redemption")),
                                          rng.randint(20, 500) * 10_000, "CNY", ts(when), "executed",
                                          None, f"B{trade_no:012d}"))
        # KYC documents, each in one of the six states the checklist knows
        kind = "institutional" if institutional else "individual"
        for doc in org.kyc_required[kind]:
            state = rng.choices(KYC_STATES, KYC_WEIGHTS)[0]
            if state == "missing":
                continue
            verifier = org.branch_verifier[branch_id]
            if state in ("pending", "rejected"):
                up = now - timedelta(days=rng.uniform(0, 90))
                note = rng.choice(D.KYC_NOTES[state])
                out["kyc"].append((cid, doc, state, None, None, None, ts(up), note))
                continue
            validity = org.kyc_validity.get(doc, 3650)
            span = {"ok": (35, min(3000, validity - 5)), "expiring": (1, 28),
                    "expired": (-400, -1)}[state]
            expiry = today + timedelta(days=rng.randint(*span))
            if doc in ("id_proof", "legal_rep_id", "business_license"):
                verified = now - timedelta(days=rng.uniform(30, 1500))
                expires_on: str | None = expiry.isoformat()
            else:
                verified = datetime.combine(expiry - timedelta(days=validity), datetime.min.time(),
                                            UTC) + timedelta(hours=rng.uniform(1, 10))
                expires_on = None
            since = min(since, verified - timedelta(days=3))
            out["kyc"].append((cid, doc, "verified", expires_on, verifier, ts(verified),
                               ts(verified - timedelta(hours=rng.uniform(1, 72))),
                               rng.choice(D.KYC_NOTES["verified"])))
        out["customers"].append((
            cid, kind, name, full, initials, id_type,
            keys.encrypt("national_id", national_id), keys.blind_index("national_id", national_id),
            keys.encrypt("phone", phone), keys.blind_index("phone", phone), phone[-4:],
            keys.encrypt("bank_account", account), keys.blind_index("bank_account", account),
            email, birth.isoformat() if birth else None, gender, _address(rng, city), occupation,
            income * 100, rng.choice(D.GOALS) if rng.random() < 0.6 else "", level,
            valid_until.isoformat() if valid_until else None, aum * 100, branch_id, rm_id,
            "active", ts(since), ts(max(since, now - timedelta(days=rng.uniform(0, 200)))), 1,
        ))
        out["rm_index"].append(rm_index)
        out["weight"].append(0.3 if aum == 0 else 1.0 if aum < 500_000 else 3.0 if aum < 6_000_000
                             else 8.0)
    return out


# -- main side ------------------------------------------------------------------------------


class Loader:
    """Raw sqlite3 executemany with every NOT NULL column the generator does not set filled
    from the model's own default, so a new column in a migration does not break the bench."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._plans: dict[tuple[str, tuple[str, ...]], tuple[str, tuple[Any, ...]]] = {}

    def _plan(self, table: str, columns: Sequence[str]) -> tuple[str, tuple[Any, ...]]:
        key = (table, tuple(columns))
        if key in self._plans:
            return self._plans[key]
        from sqlmodel import SQLModel

        import crm_tui.store.models  # noqa: F401 - registers the tables

        model = SQLModel.metadata.tables.get(table)
        extra_cols: list[str] = []
        extra_vals: list[Any] = []
        for _cid, name, _type, notnull, default, pk in self.conn.execute(f"PRAGMA table_info({table})"):
            if name in columns or pk or not notnull or default is not None:
                continue
            col = model.c[name] if model is not None and name in model.c else None
            if col is None or col.default is None:
                raise RuntimeError(f"bench generator: {table}.{name} is NOT NULL without a default;"
                                   " teach bench/generate.py about it")
            value = col.default.arg(None) if col.default.is_callable else col.default.arg
            if isinstance(value, datetime):
                value = ts(value)
            elif isinstance(value, bool):
                value = int(value)
            elif isinstance(value, dict | list):
                value = json.dumps(value)
            extra_cols.append(name)
            extra_vals.append(value)
        cols = list(columns) + extra_cols
        sql = f"INSERT OR IGNORE INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        self._plans[key] = (sql, tuple(extra_vals))
        return self._plans[key]

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
        sql, extra = self._plan(table, columns)
        if extra:
            rows = (r + extra for r in rows)
        self.conn.executemany(sql, rows)


def _org(conn: sqlite3.Connection, loader: Loader, spec: Spec, now: datetime,
         password_hash: str) -> dict[str, Any]:
    """Branches, teams and staff in proportion: about 1,000 customers per RM, 10 RMs a branch."""
    from faker.providers.person.zh_CN import Provider as Person

    rng = random.Random(SEED)
    n_rm = max(6, round(spec.customers / 1000))
    n_branch = max(2, n_rm // 10)
    cities = ("BJ01", "SH01")
    branches = []
    for i in range(n_branch):
        city = cities[i % 2]
        if i < 2:
            code, name, region = D.BRANCHES[i]
        else:
            no = i // 2 + 1
            code = f"{city[:2]}{no:02d}"
            name = f"{'北京' if city == 'BJ01' else '上海'}分行第{no}支行"
            region = "华北" if city == "BJ01" else "华东"
        branches.append((i + 1, code, name, region, city))
    loader.insert("branch", ("id", "code", "name", "region"), [b[:4] for b in branches])
    teams = [(2 * i + k + 1, b[0], f"{b[2]}财富{'一二'[k]}组") for i, b in enumerate(branches)
             for k in range(2)]
    loader.insert("team", ("id", "branch_id", "name"), teams)

    def person() -> str:
        return (rng.choice(list(Person.last_names))
                + rng.choice(Person.first_names_male + Person.first_names_female))

    staff: list[tuple[Any, ...]] = []

    def add(username: str, role: str, branch: int | None, team: int | None) -> int:
        sid = len(staff) + 1
        staff.append((sid, username, person(), role, branch, team, password_hash, 1, 0, 0,
                      ts(now - timedelta(days=1000))))
        return sid

    verifier = {}
    for t in teams:
        sid = add(f"sup{t[0]}", "supervisor", t[1], t[0])
        verifier.setdefault(t[1], sid)
    rm_ids, rm_branch = [], []
    for i in range(n_rm):
        team = teams[i % len(teams)]
        rm_ids.append(add(f"rm{i + 1}", "rm", team[1], team[0]))
        rm_branch.append(team[1])
    for b in branches:
        add(f"bh{b[0]}", "branch_head", b[0], None)
        add(f"svc{b[0]}", "service", b[0], None)
    add("comp1", "compliance", 1, None)
    add("risk1", "risk", None, None)
    add("admin", "admin", None, None)
    loader.insert("staff", ("id", "username", "display_name", "role", "branch_id", "team_id",
                            "password_hash", "active", "team_visibility", "failed_logins",
                            "created_at"), staff)
    products = []
    for i, (code, name, category, risk) in enumerate(D.PRODUCTS, start=1):
        products.append((i, code, name, category, risk, "CNY", 1))
    loader.insert("product", ("id", "code", "name", "category", "risk_level", "currency", "active"),
                  products)
    return {
        "rm_ids": tuple(rm_ids), "rm_branch": tuple(rm_branch),
        "branch_city": {b[0]: b[4] for b in branches}, "branch_verifier": verifier,
        "products": tuple((p[0], p[1], p[3], PRODUCT_RANK[p[4]]) for p in products),
        "branches": len(branches), "staff": len(staff),
    }


def _summaries(rng: random.Random) -> dict[str, list[tuple[str, str, str, int]]]:
    """Each interaction template rendered a few dozen ways, so 5M rows cost no formatting."""
    names = [p[1] for p in D.PRODUCTS]
    out: dict[str, list[tuple[str, str, str, int]]] = {}
    for channel, templates in D.INTERACTIONS.items():
        out[channel] = [
            (subject, summary.format(product=rng.choice(names), amount=rng.choice((5, 20, 50, 120, 300)),
                                     rm="", month=rng.randint(1, 12)), action, days)
            for subject, summary, action, days in templates for _ in range(24)
        ]
    return out


def _interactions(loader: Loader, spec: Spec, now: datetime, rm_of: array, weights: array,
                  rm_ids: Sequence[int], service_of: dict[int, int], rm_branch: Sequence[int]) -> int:
    """Time-ordered across the whole book (as a live system fills it), busier for richer
    customers, so one customer's history is scattered over the table like in production."""
    rng = random.Random(SEED + 1)
    templates = _summaries(rng)
    channel_weights = D.CHANNELS_BY_AGE["middle"]
    cum = list(accumulate(weights))
    ids = range(1, len(weights) + 1)
    start = now - timedelta(days=730)
    step = 730 * 86400 / spec.interactions
    batch = 50_000
    written = 0
    for first in range(0, spec.interactions, batch):
        n = min(batch, spec.interactions - first)
        customers = rng.choices(ids, cum_weights=cum, k=n)
        channels = rng.choices(D.CHANNELS, channel_weights, k=n)
        rows = []
        for j in range(n):
            cid = customers[j]
            channel = channels[j]
            when = start + timedelta(seconds=(first + j) * step + rng.random() * step)
            subject, summary, action, days = rng.choice(templates[channel])
            rm_index = rm_of[cid - 1]
            if channel in ("mobile_app", "web"):
                staff = None if rng.random() < 0.6 else service_of[rm_branch[rm_index]]
            else:
                staff = rm_ids[rm_index]
            stamp = ts(when)
            due = (when.date() + timedelta(days=days)).isoformat() if action else None
            rows.append((cid, staff, channel, stamp, subject, summary, action, due, stamp))
        loader.insert("interaction", INTERACTION_COLUMNS, rows)
        written += n
        if first % 1_000_000 == 0 and first:
            log(f"interactions {first:,}")
    return written


def _relationships(loader: Loader, rm_of: array) -> int:
    """Households and business links among customers of the same RM."""
    rng = random.Random(SEED + 2)
    members: dict[int, list[int]] = {}
    for i, rm in enumerate(rm_of):
        members.setdefault(rm, []).append(i + 1)
    kinds = ("spouse", "parent", "household", "business_partner", "influencer")
    rows = []
    for cid in range(1, len(rm_of) + 1):
        if rng.random() >= 0.18:
            continue
        other = rng.choice(members[rm_of[cid - 1]])
        if other != cid:
            rows.append((cid, other, rng.choices(kinds, (0.4, 0.25, 0.1, 0.15, 0.1))[0], ""))
    loader.insert("relationship", RELATION_COLUMNS, rows)
    return len(rows)


def build(spec: Spec, path: Path, workers: int) -> dict[str, Any]:
    """Generate into `path` (which must not exist); returns the row counts."""
    from crm_tui.domain.admin.auth import hash_password
    from crm_tui.domain.admin.setup import init_database
    from crm_tui.domain.customers.tags import evaluate_rule_tags
    from crm_tui.domain.kernel.actor import system_actor
    from crm_tui.domain.kernel.context import Crm
    from crm_tui.settings import Settings
    from crm_tui.store.crypto import Keyring, write_key_file
    from crm_tui.store.db import Database

    started = time.perf_counter()
    url = f"sqlite:///{path}"
    keys = Keyring.generate()
    write_key_file(key_path(path), keys)
    crm = Crm(Database(url), keys, Settings(database_url=url, key_file=key_path(path)),
              key_path(path))
    init_database(crm, system_actor("bench"))
    policy = crm.policy()
    crm.db.dispose()

    now = datetime.now(UTC)
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=DELETE", "journal_mode=OFF", "synchronous=OFF",
                   "cache_size=-500000", "temp_store=MEMORY"):
        conn.execute(f"PRAGMA {pragma}")
    loader = Loader(conn)
    conn.execute("BEGIN")
    org = _org(conn, loader, spec, now, hash_password("bench-password"))
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN"
        f" ({', '.join('?' * len(BULK_TABLES))})", BULK_TABLES).fetchall()
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')

    worker_org = Org(
        rm_ids=org["rm_ids"], rm_branch=org["rm_branch"], branch_city=org["branch_city"],
        branch_verifier=org["branch_verifier"], products=org["products"], now=now,
        kyc_required={k: tuple(d for d in policy.kyc.for_kind(k).required if d != "risk_questionnaire")
                      for k in ("individual", "institutional")},
        kyc_validity=dict(policy.kyc.validity_days), risk_validity=policy.risk_assessment.validity_days,
        risk_warning=policy.risk_assessment.expiry_warning_days,
    )
    tasks = [(n, first, min(CHUNK, spec.customers - first + 1))
             for n, first in enumerate(range(1, spec.customers + 1, CHUNK))]
    rm_of, weights = array("i"), array("f")
    seen: set[str] = set()
    counts = dict.fromkeys(("customers", "holdings", "kyc_documents", "risk_assessments", "trades"), 0)
    fix_rng = random.Random(SEED + 3)
    ctx = mp.get_context("fork")
    with ctx.Pool(workers, initializer=_worker_init, initargs=(keys.to_json(), worker_org)) as pool:
        for done, chunk in enumerate(pool.imap(make_chunk, tasks), start=1):
            rows = chunk["customers"]
            for i, row in enumerate(rows):
                if row[7] in seen:  # a national ID drawn twice: draw this one again
                    rows[i] = row = _redraw_id(row, keys, fix_rng, seen)
                seen.add(row[7])
            loader.insert("customer", CUSTOMER_COLUMNS, rows)
            loader.insert("holding", HOLDING_COLUMNS, chunk["holdings"])
            loader.insert("kyc_document", KYC_COLUMNS, chunk["kyc"])
            loader.insert("risk_assessment", RISK_COLUMNS, chunk["risk"])
            loader.insert("trade", TRADE_COLUMNS, chunk["trades"])
            rm_of.extend(chunk["rm_index"])
            weights.extend(chunk["weight"])
            for key, part in (("customers", "customers"), ("holdings", "holdings"),
                              ("kyc_documents", "kyc"), ("risk_assessments", "risk"),
                              ("trades", "trades")):
                counts[key] += len(chunk[part])
            if done % 20 == 0:
                log(f"customers {counts['customers']:,} ({time.perf_counter() - started:.0f} s)")
    service_of = {b: sid for sid, b in _service_desks(conn)}
    counts["interactions"] = _interactions(loader, spec, now, rm_of, weights, org["rm_ids"],
                                           service_of, org["rm_branch"])
    counts["relationships"] = _relationships(loader, rm_of)
    log(f"rows written ({time.perf_counter() - started:.0f} s); rebuilding indexes")
    for sql in ("CREATE TEMP TABLE last_contact (customer_id INTEGER PRIMARY KEY, at TEXT)",
                "INSERT INTO last_contact SELECT customer_id, max(occurred_at) FROM interaction"
                " GROUP BY customer_id",  # as logging an interaction keeps it
                "UPDATE customer SET last_contact_at = (SELECT at FROM last_contact"
                " WHERE last_contact.customer_id = customer.id)",
                "DROP TABLE last_contact"):
        conn.execute(sql)
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()

    log(f"indexes rebuilt ({time.perf_counter() - started:.0f} s); evaluating rule tags")
    crm = Crm(Database(url), keys, Settings(database_url=url, key_file=key_path(path)),
              key_path(path))
    with crm.db.write() as session:
        counts["rule_tags"] = evaluate_rule_tags(session, policy)
    crm.db.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    from bench.schema_cache import migration_fingerprints

    counts["migrations"] = migration_fingerprints()
    counts.update(branches=org["branches"], staff=org["staff"], rms=len(org["rm_ids"]),
                  seconds=round(time.perf_counter() - started, 1))
    return counts


def _service_desks(conn: sqlite3.Connection) -> list[tuple[int, int]]:
    return conn.execute("SELECT id, branch_id FROM staff WHERE role = 'service'").fetchall()


def _redraw_id(row: tuple[Any, ...], keys: Any, rng: random.Random, seen: set[str]) -> tuple[Any, ...]:
    while True:
        if row[5] == "resident_id":
            birth = date.fromisoformat(row[14])
            value = resident_id(rng, rng.choice(D.AREA_CODES["other"]), birth, row[15])
        else:
            value = credit_code(rng.choice(D.AREA_CODES["other"]), f"{rng.randrange(10**8):08d}")
        bidx = keys.blind_index("national_id", value)
        if bidx not in seen:
            return row[:6] + (keys.encrypt("national_id", value), bidx) + row[8:]


def ensure_database(spec: Spec) -> tuple[Path, dict[str, Any]]:
    """The cached database for `spec`, generated first if needed; and its generation facts."""
    path = database_path(spec)
    facts = Path(f"{path}.json")
    if path.exists() and key_path(path).exists() and facts.exists():
        from bench.schema_cache import upgraded_copy

        return upgraded_copy(path, json.loads(facts.read_text()), key_path, log)
    DATA.mkdir(parents=True, exist_ok=True)
    older = _older_cache(spec, path)
    if older is not None:
        return path, _upgrade(older, path)
    tmp = path.with_name(path.stem + ".building.db")
    for stale in (tmp, key_path(tmp), Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal")):
        stale.unlink(missing_ok=True)
    workers = int(os.environ.get("BENCH_WORKERS", "0")) or max(1, min(4, os.cpu_count() or 1))
    log(f"generating {spec.customers:,} customers and {spec.interactions:,} interactions "
        f"with {workers} worker(s) into {path.name} (cached for later runs)")
    counts = build(spec, tmp, workers)
    os.replace(key_path(tmp), key_path(path))
    os.replace(tmp, path)
    for side in (Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        side.unlink(missing_ok=True)
    facts.write_text(json.dumps(counts, ensure_ascii=False, indent=2))
    log(f"done in {counts['seconds']} s: {counts}")
    return path, counts


def _older_cache(spec: Spec, path: Path) -> Path | None:
    """A cached database of the same size from an earlier schema revision this code knows."""
    import sqlite3 as _sqlite

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from crm_tui.store.migrate import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    known = {rev.revision for rev in ScriptDirectory.from_config(cfg).walk_revisions()}
    found = []
    for candidate in DATA.glob(f"crm-{spec.customers}-*-g{GENERATOR_VERSION}.db"):
        if candidate == path or ".building" in candidate.name:
            continue
        if not (key_path(candidate).exists() and Path(f"{candidate}.json").exists()):
            continue
        conn = _sqlite.connect(candidate)
        try:
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        except _sqlite.Error:
            continue
        finally:
            conn.close()
        if revision in known:
            found.append(candidate)
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def _upgrade(older: Path, path: Path) -> dict[str, Any]:
    """Bring a cached database forward with the app's own migrations, as `crm db upgrade`
    would a production store: minutes of generation saved when only the schema moved."""
    from crm_tui.store.db import Database
    from crm_tui.store.migrate import upgrade

    log(f"upgrading {older.name} to the current schema as {path.name}")
    started = time.perf_counter()
    os.replace(key_path(older), key_path(path))
    os.replace(older, path)
    db = Database(f"sqlite:///{path}")
    try:
        upgrade(db.write_engine)
    finally:
        db.dispose()
    facts = json.loads(Path(f"{older}.json").read_text())
    facts["upgraded_from"] = older.name
    facts["upgrade_seconds"] = round(time.perf_counter() - started, 1)
    Path(f"{path}.json").write_text(json.dumps(facts, ensure_ascii=False, indent=2))
    Path(f"{older}.json").unlink()
    return facts

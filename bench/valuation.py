"""Valuation at scale: the AUM refresh of 1M customers' holdings (× BENCH_SCALE) through the
domain (`products.valuation.refresh_aum`, one UPDATE … FROM over holdings joined to the
latest price and rate) against the very same SQL replayed on a raw sqlite3 connection; and
the first page of each portfolio work list ("customers out of band", "holdings above risk",
"maturing soon") for an RM, a supervisor (a team of 10 RMs) and the branch head, each
against the same statements replayed raw.

The data is its own database (`bench/data/valuation-<n>-<rev>.db`, cached), made from the
real models with SQLAlchemy Core executemany: 60 branch RMs, customers with a risk level,
1–5 holdings each across the demo catalogue plus USD/HKD products, 31 days of NAVs and
rates. No encryption or names beyond a placeholder: valuation never reads them. A cached
database is brought up to the models' indexes and given what the lists need (four
maturing products, a team with its supervisor) by `_prepare`, so no rebuild is needed.
"""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.report import Figure

DATA = Path(__file__).with_name("data")
RMS = 60
CHUNK = 50_000
TODAY = date(2026, 12, 1)
RUNS = 3


def _path(customers: int) -> Path:
    from crm_tui.store.migrate import head_revision

    return DATA / f"valuation-{customers}-{head_revision() or 'base'}.db"


def _build(path: Path, customers: int) -> dict[str, Any]:
    from sqlalchemy import insert
    from sqlmodel import SQLModel

    from crm_tui.demo import data as D
    from crm_tui.demo.products import CATALOGUE, FOREIGN
    from crm_tui.store.db import Database
    from crm_tui.store.models import Branch, Customer, Holding, Product, Staff
    from crm_tui.store.models_products import ExchangeRate, ProductPrice

    tmp = path.with_name(path.name + ".building")
    tmp.unlink(missing_ok=True)
    db = Database(f"sqlite:///{tmp}")
    SQLModel.metadata.create_all(db.write_engine)
    rng = random.Random(15)
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    started = time.perf_counter()
    with db.write() as s:
        s.execute(insert(Branch), [{"id": 1, "code": "BJ01", "name": "北京分行营业部", "region": "华北"}])
        s.execute(insert(Staff), [
            {"id": i, "username": f"rm{i}", "display_name": f"客户经理{i}", "role": "rm",
             "branch_id": 1, "password_hash": "", "active": True, "team_visibility": False,
             "failed_logins": 0, "created_at": now} for i in range(1, RMS + 1)]
            + [{"id": RMS + 1, "username": "bh1", "display_name": "行长", "role": "branch_head",
                "branch_id": 1, "password_hash": "", "active": True, "team_visibility": False,
                "failed_logins": 0, "created_at": now}])
        products = []
        for i, (code, name, cat, risk) in enumerate(D.PRODUCTS, start=1):
            ac = CATALOGUE.get(code, ("fixed_income",))[0]
            products.append({"id": i, "code": code, "name": name, "category": cat,
                             "risk_level": risk, "currency": "CNY", "active": True,
                             "asset_class": ac})
        for j, (code, name, cat, risk, cur, ac, *_rest) in enumerate(FOREIGN, start=len(products) + 1):
            products.append({"id": j, "code": code, "name": name, "category": cat,
                             "risk_level": risk, "currency": cur, "active": True,
                             "asset_class": ac})
        s.execute(insert(Product), [{"min_amount_fen": 0, "step_amount_fen": 0, "fee_rate_bp": 0,
                                     "issuer": "", "early_redeemable": True, "disclosure": "",
                                     **p} for p in products])
        s.execute(insert(ProductPrice), [
            {"product_id": p["id"], "price_date": TODAY - timedelta(days=d),
             "price_e6": rng.randint(950_000, 1_150_000)}
            for p in products if p["category"] != "deposit" for d in range(31)])
        s.execute(insert(ExchangeRate), [
            {"currency": c, "rate_date": TODAY - timedelta(days=d), "rate_e6": r + rng.randint(-5000, 5000)}
            for c, r in (("USD", 7_120_000), ("HKD", 913_000)) for d in range(31)])
    levels = ("C1", "C2", "C3", "C4", "C5")
    holdings = 0
    for first in range(1, customers + 1, CHUNK):
        ids = range(first, min(customers, first + CHUNK - 1) + 1)
        cust = [{"id": cid, "kind": "individual", "name": "客户", "name_pinyin": "", "name_initials": "",
                 "id_type": "resident_id", "email": "", "gender": "", "address": "", "occupation": "",
                 "annual_income_fen": 0, "goals": "", "risk_level": rng.choice(levels),
                 "aum_fen": 0, "branch_id": 1, "rm_id": 1 + cid % RMS, "status": "active",
                 "created_at": now, "updated_at": now, "version": 1} for cid in ids]
        hold = []
        for cid in ids:
            for pid in rng.sample(range(1, len(products) + 1), rng.randint(1, 5)):
                fen = rng.randint(1_000, 500_000) * 100
                hold.append({"customer_id": cid, "product_id": pid, "amount_fen": fen,
                             "units_e4": fen * 100, "currency": products[pid - 1]["currency"],
                             "updated_at": now})
        with db.write() as s:
            s.execute(insert(Customer), cust)
            s.execute(insert(Holding), hold)
        holdings += len(hold)
    db.dispose()
    os.replace(tmp, path)
    return {"customers": customers, "holdings": holdings,
            "seconds": round(time.perf_counter() - started, 1)}


SUPERVISOR = RMS + 2
TEAM_RMS = 10
MATURING = {1: 5, 2: 20, 7: 20, 3: 45}  # product id → days from TODAY (two on one day)


def _prepare(path: Path) -> None:
    """Indexes the models declare that an older cached file lacks; maturity dates; a team
    of the first RMs with a supervisor. Idempotent."""
    from sqlalchemy import insert, select, update

    from crm_tui.store.db import Database
    from crm_tui.store.models import Customer, Holding, Product, Staff, Team

    db = Database(f"sqlite:///{path}")
    for table in (Customer.__table__, Holding.__table__):  # type: ignore[attr-defined]
        for index in table.indexes:
            index.create(db.write_engine, checkfirst=True)
    with db.write() as s:
        for pid, days in MATURING.items():
            s.execute(update(Product).where(Product.id == pid)
                      .values(maturity_date=TODAY + timedelta(days=days)))
        if s.scalar(select(Team.id).where(Team.id == 1)) is None:
            s.execute(insert(Team), [{"id": 1, "branch_id": 1, "name": "财富一组"}])
            s.execute(insert(Staff), [{
                "id": SUPERVISOR, "username": "sup1", "display_name": "主管", "role": "supervisor",
                "branch_id": 1, "team_id": 1, "password_hash": "", "active": True,
                "team_visibility": False, "failed_logins": 0,
                "created_at": datetime(2026, 12, 1, 2, 0, tzinfo=UTC)}])
            s.execute(update(Staff).where(Staff.id <= TEAM_RMS).values(team_id=1))
    db.dispose()


def _statements(engine: Any, fn: Any) -> list[tuple[str, Any]]:
    from bench.queries import capture

    with capture(engine) as calls:
        calls.append([])
        fn()
    return [(q, p) for q, p in calls[0]
            if not q.strip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))]


def _timed(fn: Any) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def run_valuation(scale: float) -> list[Figure]:
    from bench.queries import raw_connection, replay
    from crm_tui.domain.kernel.actor import Actor, system_actor
    from crm_tui.domain.kernel.context import Crm
    from crm_tui.domain.policy.document import activate_policy, default_policy_text
    from crm_tui.domain.products import lists
    from crm_tui.domain.products.valuation import refresh_aum
    from crm_tui.settings import Settings
    from crm_tui.store.crypto import Keyring
    from crm_tui.store.db import Database

    customers = max(1000, round(1_000_000 * scale))
    DATA.mkdir(parents=True, exist_ok=True)
    path = _path(customers)
    facts: dict[str, Any] = {"cached": True}
    if not path.exists():
        print(f"valuation: generating {customers:,} customers with Core inserts", flush=True)
        facts = _build(path, customers)
        print(f"valuation: {facts}", flush=True)
    _prepare(path)
    url = f"sqlite:///{path}"
    crm = Crm(Database(url), Keyring.generate(), Settings(database_url=url))
    with crm.db.write() as s:
        activate_policy(crm.db, s, system_actor("bench"), default_policy_text())
    conn = raw_connection(path)

    def reset() -> None:
        conn.execute("UPDATE customer SET aum_fen = 0")

    def refresh() -> None:
        with crm.db.write() as s:
            refresh_aum(s, TODAY)

    reset()
    stmts = _statements(crm.db.write_engine, refresh)
    domain, floor = [], []
    for _ in range(RUNS):
        reset()
        domain.append(_timed(refresh))
        reset()
        floor.append(_timed(lambda: replay(conn, stmts)))
    changed = conn.execute("SELECT count(*), sum(aum_fen) FROM customer WHERE aum_fen > 0").fetchone()
    figures = [
        Figure("valuation.customers", customers, "rows", note=f"holdings {facts.get('holdings', '?')}"),
        Figure("valuation.aum_refresh", min(domain), "ms", min(floor), target="<= 1.5x floor",
               met=min(domain) <= 1.5 * min(floor),
               note=f"best of {RUNS}; {changed[0]:,} customers revalued"),
    ]
    actors = {"rm": Actor(1, "rm1", "客户经理1", "rm", branch_id=1, team_id=1),
              "supervisor": Actor(SUPERVISOR, "sup1", "主管", "supervisor", branch_id=1,
                                  team_id=1),
              "branch_head": Actor(RMS + 1, "bh1", "行长", "branch_head", branch_id=1)}
    for kind in lists.LISTS:
        for who, actor in actors.items():
            def page(a: Actor = actor, k: str = kind) -> Any:
                return lists.PAGERS[k](crm, a, after=lists.FIRST[k], limit=lists.PAGE,
                                       today=TODAY)
            page()
            sent = _statements(crm.db.read_engine, page)
            d = min(_timed(page) for _ in range(5))
            f = min(_timed(lambda s=sent: replay(conn, s)) for _ in range(5))
            rows = len(page().rows)
            figures.append(Figure(f"valuation.{kind}_first_page.{who}", d, "ms", f,
                                  target="<= 200", met=d <= 200,
                                  note=f"{rows} rows, {len(sent)} statements"))
    conn.close()
    crm.db.dispose()
    return figures

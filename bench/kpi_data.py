"""The KPI bench's own database: N customers, N opportunities (with their stage history)
and N tickets, plus what the value panel reads (holdings, trades, interactions), cached as
`bench/data/kpi-<N>-<revision>-k<GEN>.db` (a name no other bench uses).

The schema comes from the real migrations (`init_database`); rows go in with raw sqlite3
executemany (the fastest bulk path here; the KPIs read no encrypted column, so customers
are plain rows as in the ticket bench). Tickets come from `bench.tickets.ticket_rows`.
Four branches, three teams each, ten RMs per team; dates spread over the last 400 days so
the current quarter and the one before both have data.
"""

from __future__ import annotations

import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.bulk import open_bulk_database
from bench.generate import DATA, key_path, log, ts
from bench.tickets import TICKET_SQL, ticket_rows

GEN = 1
CHUNK = 50_000
BRANCHES = ("BJ01", "BJ02", "SH01", "SZ01")
CATEGORIES = ("deposit", "wealth", "fund", "insurance", "bond", "structured")
STAGES = ("needs", "matching", "proposal", "closing", "won")
REASONS = ("yield", "service", "funds_needed", "moved_bank", "relocated", "other")
CUSTOMER_SQL = (
    "INSERT INTO customer (kind, name, name_pinyin, name_initials, id_type, email, gender, "
    "address, occupation, annual_income_fen, goals, aum_fen, branch_id, rm_id, status, "
    "created_at, updated_at, version, churned_at, churn_reason) VALUES ('individual', ?, '', '', "
    "'resident_id', '', '', '', '', 0, '', ?, ?, ?, 'active', ?, ?, 1, ?, ?)")
HOLDING_SQL = ("INSERT INTO holding (customer_id, product_id, amount_fen, units_e4, currency, "
               "updated_at) VALUES (?, ?, ?, ?, 'CNY', ?)")
TRADE_SQL = ("INSERT INTO trade (customer_id, product_id, kind, amount_fen, currency, "
             "occurred_at, status) VALUES (?, ?, ?, ?, 'CNY', ?, 'executed')")
INTERACTION_SQL = ("INSERT INTO interaction (customer_id, staff_id, channel, occurred_at, "
                   "subject, summary, next_action, created_at) VALUES (?, ?, 'phone', ?, '回访', "
                   "'', '', ?)")
OPP_SQL = ("INSERT INTO opportunity (id, customer_id, owner_id, team_id, branch_id, stage, "
           "product_id, amount_fen, created_at, stage_entered_at, closed_at, version) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)")
EVENT_SQL = ("INSERT INTO opportunity_stage_event (opportunity_id, from_stage, to_stage, at, "
             "actor) VALUES (?, ?, ?, ?, 'bench')")


def database_path(n: int) -> Path:
    from crm_tui.store.migrate import head_revision

    return DATA / f"kpi-{n}-{head_revision()}-k{GEN}.db"


def _org(conn: sqlite3.Connection, now: datetime) -> list[tuple[int, int, int]]:
    """Branches, teams and staff; returns (rm id, team id, branch id) per RM."""
    rms = []
    for b, code in enumerate(BRANCHES, start=1):
        conn.execute("INSERT INTO branch (id, code, name, region) VALUES (?, ?, ?, '')",
                     (b, code, f"网点{code}"))
        for k in range(3):
            team = conn.execute("INSERT INTO team (branch_id, name) VALUES (?, ?)",
                                (b, f"财富{k + 1}组")).lastrowid
            for i in range(10):
                rm = conn.execute(
                    "INSERT INTO staff (username, display_name, role, branch_id, team_id, "
                    "password_hash, active, team_visibility, failed_logins, created_at) "
                    "VALUES (?, ?, 'rm', ?, ?, '', 1, 0, 0, ?)",
                    (f"rm{b}{k}{i}", f"客户经理{b}{k}{i}", b, team, ts(now))).lastrowid
                rms.append((rm, team, b))
            conn.execute("INSERT INTO staff (username, display_name, role, branch_id, team_id, "
                         "password_hash, active, team_visibility, failed_logins, created_at) "
                         "VALUES (?, ?, 'supervisor', ?, ?, '', 1, 0, 0, ?)",
                         (f"sup{b}{k}", f"主管{b}{k}", b, team, ts(now)))
        conn.execute("INSERT INTO staff (username, display_name, role, branch_id, "
                     "password_hash, active, team_visibility, failed_logins, created_at) "
                     "VALUES (?, ?, 'branch_head', ?, '', 1, 0, 0, ?)",
                     (f"bh{b}", f"行长{b}", b, ts(now)))
    conn.execute("INSERT INTO staff (username, display_name, role, branch_id, password_hash, "
                 "active, team_visibility, failed_logins, created_at) "
                 "VALUES ('comp1', '合规', 'compliance', 1, '', 1, 0, 0, ?)", (ts(now),))
    for p in range(40):
        conn.execute("INSERT INTO product (code, name, category, risk_level, currency, active, "
                     "asset_class, min_amount_fen, step_amount_fen, fee_rate_bp, issuer, "
                     "early_redeemable, disclosure) VALUES (?, ?, ?, ?, 'CNY', 1, "
                     "'fixed_income', 0, 0, ?, '', 1, '')",
                     (f"K{p:03d}", f"产品{p}", CATEGORIES[p % 6], f"R{1 + p % 5}", 20 + p))
    return rms


def _customers(conn: sqlite3.Connection, rng: random.Random, n: int, now: datetime,
               rms: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Customers and their holdings, trades and interactions; returns (rm, team, branch)
    per customer (index = id − 1) for the pipeline."""
    owner = []
    done = 0
    while done < n:
        cust, hold, trade, inter = [], [], [], []
        for cid in range(done + 1, min(n, done + CHUNK) + 1):
            rm, team, branch = rms[rng.randrange(len(rms))]
            owner.append((rm, team, branch))
            aum = int(rng.paretovariate(1.2) * 50_000_00)
            created = now - timedelta(days=rng.randrange(30, 3 * 365))
            churned = now - timedelta(days=rng.randrange(0, 400)) if rng.random() < 0.05 else None
            cust.append((f"客户{cid}", aum, branch, rm, ts(created), ts(created),
                         ts(churned) if churned else None,
                         rng.choice(REASONS) if churned else None))
            for product in rng.sample(range(1, 41), rng.choice((0, 1, 1, 2, 2, 3))):
                hold.append((cid, product, aum // 3, aum // 3 * 100, ts(now)))
            if rng.random() < 0.8:
                trade.append((cid, 1 + rng.randrange(40), rng.choice(("subscription", "redemption")),
                              1_000_000 * rng.randrange(1, 100),
                              ts(now - timedelta(minutes=rng.randrange(400 * 1440)))))
            for _ in range(rng.choice((1, 2, 3))):
                at = ts(now - timedelta(minutes=rng.randrange(400 * 1440)))
                inter.append((cid, rm, at, at))
        conn.executemany(CUSTOMER_SQL, cust)
        conn.executemany(HOLDING_SQL, hold)
        conn.executemany(TRADE_SQL, trade)
        conn.executemany(INTERACTION_SQL, inter)
        done += len(cust)
        log(f"kpi customers {done:,}")
    return owner


def _pipeline(conn: sqlite3.Connection, rng: random.Random, n: int, now: datetime,
              owner: list[tuple[int, int, int]]) -> None:
    done = 0
    while done < n:
        opps, events = [], []
        for oid in range(done + 1, min(n, done + CHUNK) + 1):
            cid = 1 + rng.randrange(len(owner))
            rm, team, branch = owner[cid - 1]
            reached = rng.choice((0, 0, 0, 1, 1, 2, 2, 3, 4))
            lost = reached < 4 and rng.random() < 0.3
            at = now - timedelta(minutes=rng.randrange(400 * 1440))
            created = at
            previous = None
            for stage in STAGES[:reached + 1]:
                events.append((oid, previous, stage, ts(at)))
                previous, entered = stage, at
                at += timedelta(minutes=rng.randrange(60, 20 * 1440))
            stage = "lost" if lost else STAGES[reached]
            closed = ts(entered) if stage in ("won", "lost") else None
            opps.append((oid, cid, rm, team, branch, stage, 1 + rng.randrange(40),
                         100_000 * rng.randrange(1, 5_000), ts(created), ts(entered), closed))
        conn.executemany(OPP_SQL, opps)
        conn.executemany(EVENT_SQL, events)
        done += len(opps)
        log(f"kpi opportunities {done:,}")


def _build(path: Path, n: int) -> None:
    started = time.perf_counter()
    conn = open_bulk_database(path)
    now = datetime.now(UTC)
    rng = random.Random(12)
    rms = _org(conn, now)
    owner = _customers(conn, rng, n, now, rms)
    _pipeline(conn, rng, n, now, owner)
    done = 0
    while done < n:
        rows = ticket_rows(rng, min(CHUNK, n - done), n, now, staff=len(rms))
        conn.executemany(TICKET_SQL, rows)
        done += len(rows)
        log(f"kpi tickets {done:,}")
    quarter = f"{now.year}-Q{(now.month - 1) // 3 + 1}"
    conn.executemany("INSERT INTO sales_target (period, staff_id, amount_fen, set_by, set_at) "
                     "VALUES (?, ?, ?, 'bench', ?)",
                     [(quarter, rm, 50_000_000_00, ts(now)) for rm, _, _ in rms])
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    log(f"kpi bench database ({n:,} × 3) built in {time.perf_counter() - started:.0f} s")


def ensure_kpi_db(n: int) -> tuple[Path, float | None]:
    """The cached database (built now if missing) and how long building it took."""
    path = database_path(n)
    if path.exists():
        return path, None
    DATA.mkdir(exist_ok=True)
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    key_path(tmp).unlink(missing_ok=True)
    t0 = time.perf_counter()
    _build(tmp, n)
    key_path(tmp).rename(key_path(path))
    tmp.rename(path)
    return path, time.perf_counter() - t0


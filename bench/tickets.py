"""The ticket queue at 1,000,000 tickets (times BENCH_SCALE): first paint of the queue pane
and keyset paging, each next to the raw SQL of the same page.

A database of its own (`bench/data/tickets-<n>.db`, cached): the real migrations, one
branch with a service desk and 40 RMs, 100,000 customers (plain rows; the queue reads
names only) and the tickets, 30 % open, inserted with raw sqlite3 executemany. The floor
is the SQL the domain sent, captured and replayed on a plain connection (bench.queries).
First paint is the real app (headless): from asking the queue pane for its page to the
first frame whose terminal output shows the first ticket; paging likewise to the frame
showing the next page's first ticket.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.bulk import open_bulk_database
from bench.frames import Frames
from bench.generate import DATA, key_path, log, ts
from bench.queries import Timed, capture, raw_connection, replay
from bench.report import Figure, percentile

PAINT_TARGET_MS = 300.0
PAGE_TARGET_MS = 50.0
TYPES = ("inquiry", "transaction_help", "info_change", "complaint", "other")
PRIORITIES = ("urgent", "high", "normal", "low")
OPEN = ("new", "assigned", "in_progress", "waiting_customer")
CUSTOMERS = 100_000
CHUNK = 50_000


TICKET_SQL = (
    "INSERT INTO ticket (customer_id, branch_id, type, priority, state, queue, team_id, "
    "assignee_id, subject, description, channel, created_by, created_at, first_response_due, "
    "resolution_due, next_due_at, first_response_at, paused_at, resolved_at, closed_at, "
    "resolution_note, breached, escalated_at, reopened, csat, first_contact_resolution, "
    "version) VALUES (?, 1, ?, ?, ?, ?, NULL, ?, ?, '', 'phone', 1, ?, ?, ?, ?, ?, NULL, ?, "
    "?, '', ?, NULL, 0, ?, ?, 1)")
SUBJECTS = ("网银登录异常", "大额存单利率咨询", "更新通讯地址", "基金赎回到账时间", "信用卡还款",
            "理财到期续作", "转账限额调整", "开具资产证明")


def ticket_rows(rng: random.Random, count: int, customers: int, now: datetime,
                staff: int = 41) -> list[tuple[Any, ...]]:
    """`count` tickets over the last year for customers 1…`customers`, 30 % open (rows for
    TICKET_SQL; the KPI bench reuses them)."""
    rows = []
    for _ in range(count):
        created = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 365))
        first_due = created + timedelta(hours=rng.choice((1, 2, 4, 8)))
        res_due = first_due + timedelta(hours=rng.choice((3, 6, 20, 32)))
        is_open = rng.random() < 0.3
        state = rng.choice(OPEN) if is_open else rng.choice(("resolved", "closed"))
        answered = state not in ("new", "assigned")
        rows.append((1 + rng.randrange(customers), rng.choice(TYPES), rng.choice(PRIORITIES),
                     state, rng.choice(("general", "priority", "transactions", "complaints")),
                     (1 + rng.randrange(staff)) if state != "new" else None,
                     rng.choice(SUBJECTS), ts(created), ts(first_due), ts(res_due),
                     (ts(res_due if answered else first_due) if is_open else None),
                     ts(created + timedelta(minutes=30)) if answered else None,
                     None if is_open else ts(res_due - timedelta(hours=1)),
                     None if state != "closed" else ts(res_due),
                     int(is_open and rng.random() < 0.2),
                     None if is_open else rng.randint(1, 5),
                     None if is_open else rng.random() < 0.4))
    return rows


def _build(path: Path, tickets: int) -> None:
    started = time.perf_counter()
    conn = open_bulk_database(path)
    now = datetime.now(UTC)
    conn.execute("INSERT INTO branch (code, name, region) VALUES ('BJ01', '北京分行营业部', '华北')")
    conn.execute("INSERT INTO team (branch_id, name) VALUES (1, '财富管理一组')")
    staff = [("svc1", "马丽", "service", None)] + [(f"rm{i}", f"客户经理{i}", "rm", 1)
                                                    for i in range(1, 41)]
    conn.executemany(
        "INSERT INTO staff (username, display_name, role, branch_id, team_id, password_hash, "
        "active, team_visibility, failed_logins, created_at) VALUES (?, ?, ?, 1, ?, '', 1, 0, 0, ?)",
        [(u, n, r, team, ts(now)) for u, n, r, team in staff])
    rng = random.Random(10)
    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
    given = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚"
    conn.executemany(
        "INSERT INTO customer (kind, name, name_pinyin, name_initials, id_type, email, gender, "
        "address, occupation, annual_income_fen, goals, aum_fen, branch_id, rm_id, status, "
        "created_at, updated_at, version) VALUES ('individual', ?, '', '', 'resident_id', '', '', "
        "'', '', 0, '', ?, 1, ?, 'active', ?, ?, 1)",
        [(rng.choice(surnames) + rng.choice(given) + rng.choice(given), rng.randrange(10**9),
          2 + i % 40, ts(now), ts(now)) for i in range(CUSTOMERS)])
    done = 0
    while done < tickets:
        rows = ticket_rows(rng, min(CHUNK, tickets - done), CUSTOMERS, now)
        conn.executemany(TICKET_SQL, rows)
        done += len(rows)
        log(f"tickets: {done:,}")
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    log(f"ticket bench database built in {time.perf_counter() - started:.0f} s")


def ensure_tickets_db(tickets: int) -> Path:
    from crm_tui.store.migrate import head_revision

    DATA.mkdir(exist_ok=True)
    path = DATA / f"tickets-{tickets}-{head_revision()}.db"
    if not path.exists():
        tmp = path.with_suffix(".building")
        tmp.unlink(missing_ok=True)
        key_path(tmp).unlink(missing_ok=True)
        _build(tmp, tickets)
        key_path(tmp).rename(key_path(path))
        tmp.rename(path)
    return path


def _timed(crm: Any, conn: sqlite3.Connection, calls: list[Any]) -> Timed:
    """Each call warm (run once untimed, so both sides read cached pages), then timed
    through the domain, then its captured SQL replayed raw."""
    domain, floor = [], []
    for call in calls:
        with capture(crm.db.read_engine) as captured:
            captured.append([])
            call()
        t0 = time.perf_counter()
        call()
        domain.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        replay(conn, captured[0])
        floor.append((time.perf_counter() - t0) * 1000)
    return Timed(domain, floor)


def _figures(name: str, timed: Timed, target: float) -> list[Figure]:
    out = []
    for q in (50, 95):
        value, floor = percentile(timed.domain_ms, q), percentile(timed.floor_ms, q)
        out.append(Figure(f"{name}.p{q}", value, "ms", floor,
                          target=f"<= {target:g}" if q == 95 else "",
                          met=(value <= target) if q == 95 else None))
    return out


async def _tui_paint(crm: Any, actor: Any, flt: Any, runs: int = 7) -> dict[str, list[float]]:
    """The queue in the real app (its area opened with F7), from asking for it (reload)
    to the first frame whose terminal output shows the first ticket's number ("first"),
    and from putting the cursor on the last loaded row and one down to the frame
    showing the next page's first ticket ("page")."""
    from crm_tui.app import CrmApp
    from crm_tui.domain.service.queue import cursor, queue_page
    from crm_tui.screens.tickets import PAGE, TicketQueuePane
    from crm_tui.widgets.row_table import RowTable
    from crm_tui.widgets.session import SignedIn

    app = CrmApp(crm, session=SignedIn(actor, "北京分行营业部", ""))
    app.animation_level = "none"
    out: dict[str, list[float]] = {"first": [], "page": []}
    first = queue_page(crm, actor, flt, limit=PAGE)
    async with app.run_test(size=(140, 45)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("f7")
        await app.workers.wait_for_complete()
        await pilot.pause()
        pane = app.screen.query_one(TicketQueuePane)
        table = pane.query_one("#ticket-table", RowTable)
        frames = Frames(app)
        for _ in range(runs):
            table.clear()  # so the first ticket must be painted anew
            await pilot.pause()
            frames.expect(first=f"#{first[0].id}")
            t0 = time.perf_counter()
            pane.reload()
            await frames.wait()
            out["first"].append((frames.seen["first"] - t0) * 1000)
            await app.workers.wait_for_complete()
            await pilot.pause()
        table.focus()
        for _ in range(runs):
            have = len(pane.rows)
            following = queue_page(crm, actor, flt, after=cursor(pane.rows[-1]), limit=1)[0]
            frames.expect(next=f"#{following.id}")
            t0 = time.perf_counter()
            table.move_cursor(row=have - 1)  # the last loaded row: the next page loads
            while len(pane.rows) == have:
                await asyncio.sleep(0.001)
            table.move_cursor(row=have)  # and one down, onto the new page's first ticket
            await frames.wait()
            out["page"].append((frames.seen["next"] - t0) * 1000)
            await app.workers.wait_for_complete()
            await pilot.pause()
    return out


def run_tickets(scale: float, runs: int = 20) -> list[Figure]:
    from sqlalchemy import select

    from crm_tui.domain.admin.auth import actor_of
    from crm_tui.domain.kernel.context import Crm
    from crm_tui.domain.service.queue import QueueFilter, cursor, queue_page
    from crm_tui.settings import Settings
    from crm_tui.store.crypto import load_keyring
    from crm_tui.store.db import Database
    from crm_tui.store.models import Staff

    tickets = max(10_000, round(1_000_000 * scale))
    path = ensure_tickets_db(tickets)
    url = f"sqlite:///{path}"
    crm = Crm(Database(url), load_keyring(key_path(path)),
              Settings(database_url=url, key_file=key_path(path)), key_path(path))
    conn = raw_connection(path)
    with crm.db.read() as s:
        svc = actor_of(s.scalars(select(Staff).where(Staff.username == "svc1")).one())
        rm = actor_of(s.scalars(select(Staff).where(Staff.username == "rm7")).one())
    everything = QueueFilter(view="all")
    first = [lambda: queue_page(crm, svc, everything)] * runs
    pages, at = [], None
    for _ in range(runs):  # walk deep into the queue, one keyset page after another
        rows = queue_page(crm, svc, everything, after=at)
        pages.append(at)
        at = cursor(rows[-1])
    deep = [lambda a=a: queue_page(crm, svc, everything, after=a) for a in pages]
    urgent = QueueFilter(view="all", priority="urgent", state="in_progress")
    mine = QueueFilter(view="mine")
    import os

    figures = [Figure("tickets.count", tickets, "rows"),
               Figure("tickets.load_avg_1m", os.getloadavg()[0], "procs",
                      note=f"{os.cpu_count()} CPU(s), shared")]
    figures += _figures("tickets.first_page", _timed(crm, conn, first), PAGE_TARGET_MS)
    figures += _figures("tickets.next_pages", _timed(crm, conn, deep), PAGE_TARGET_MS)
    figures += _figures("tickets.filtered_page",
                        _timed(crm, conn, [lambda: queue_page(crm, svc, urgent)] * runs),
                        PAGE_TARGET_MS)
    figures += _figures("tickets.rm_mine_page",
                        _timed(crm, conn, [lambda: queue_page(crm, rm, mine)] * runs),
                        PAGE_TARGET_MS)
    team = QueueFilter(view="team")
    tui = asyncio.run(_tui_paint(crm, svc, team))
    floors = {"first": percentile(_timed(crm, conn, [lambda: queue_page(crm, svc, team)] * runs)
                                  .floor_ms, 50),
              "page": percentile(_timed(crm, conn, deep).floor_ms, 50)}
    notes = {"first": "reload to the first frame showing the first ticket (svc1's team view, "
                      "as the pane opens for a service agent)",
             "page": "cursor to the last loaded row, then one down: to the frame showing "
                     "the next page's first ticket"}
    for name, values in tui.items():
        value = percentile(values, 50)
        figures.append(Figure(f"tickets.tui_{name}.p50", value, "ms", floors[name],
                              target=f"<= {PAINT_TARGET_MS:g}", met=value <= PAINT_TARGET_MS,
                              note=notes[name] + "; headless 140x45; floor: raw SQL of the page"))
        figures.append(Figure(f"tickets.tui_{name}.max", max(values), "ms"))
    figures.append(Figure("tickets.load_avg_1m_end", os.getloadavg()[0], "procs"))
    conn.close()
    crm.db.dispose()
    return figures

"""The pipeline board at 100,000 open opportunities: first paint (every column's count and
total plus its first page of cards) and scrolling down one column (keyset pages), through
the domain and as the raw-SQL floor (the very statements the domain sent, replayed on a
plain sqlite3 connection). Plus the board in the real TUI (headless pilot): the first
frame whose terminal output shows the cards, the first that shows the counts too, and a
column scrolled to its next page, each timed to the frame that carries the text.

Its own database (one branch, three teams of RMs, 40,000 customers), generated with Core
executemany in a few seconds and cached in bench/data/.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.frames import Frames
from bench.queries import measure, raw_connection
from bench.report import Figure, percentile

DATA = Path(__file__).with_name("data")
TARGET_MS = 300.0
STAGES = ("needs", "matching", "proposal", "closing")
GEN = 3


def _build(path: Path, open_opps: int) -> None:
    from sqlalchemy import insert
    from sqlmodel import SQLModel

    from crm_tui.domain.admin.auth import hash_password
    from crm_tui.store.crypto import Keyring, write_key_file
    from crm_tui.store.db import Database
    from crm_tui.store.models import Branch, Customer, Product, Staff, Team
    from crm_tui.store.models_sales import Opportunity

    keys = Keyring.generate()
    write_key_file(Path(f"{path}.key"), keys)
    db = Database(f"sqlite:///{path}")
    SQLModel.metadata.create_all(db.write_engine)
    rng = random.Random(9)
    now = datetime.now(UTC)
    pw = hash_password("bench-pass-1")
    with db.write() as s:
        branch = s.execute(insert(Branch).values(code="BJ01", name="北京分行营业部", region="华北")
                           .returning(Branch.id)).scalar_one()
        teams = [s.execute(insert(Team).values(branch_id=branch, name=f"财富{i}组")
                           .returning(Team.id)).scalar_one() for i in range(1, 4)]
        staff = [{"username": f"rm{i}", "display_name": f"客户经理{i}", "role": "rm",
                  "branch_id": branch, "team_id": teams[i % 3], "password_hash": pw,
                  "active": True, "team_visibility": False, "failed_logins": 0,
                  "created_at": now} for i in range(1, 31)]
        staff += [{"username": f"sup{i}", "display_name": f"主管{i}", "role": "supervisor",
                   "branch_id": branch, "team_id": teams[i - 1], "password_hash": pw,
                   "active": True, "team_visibility": False, "failed_logins": 0,
                   "created_at": now} for i in range(1, 4)]
        staff.append({"username": "bh1", "display_name": "刘洋", "role": "branch_head",
                      "branch_id": branch, "team_id": None, "password_hash": pw, "active": True,
                      "team_visibility": False, "failed_logins": 0, "created_at": now})
        s.execute(insert(Staff), staff)
        rms = {r.id: r.team_id for r in s.query(Staff).filter(Staff.role == "rm")}
        s.execute(insert(Product), [{"code": f"WM{i:04d}", "name": f"理财产品{i}",
                                     "category": "wealth", "risk_level": f"R{1 + i % 5}"}
                                    for i in range(1, 41)])
        rm_ids = list(rms)
        customers = [{"kind": "individual", "name": f"客户{i:05d}", "name_pinyin": f"kehu{i}",
                      "name_initials": "kh", "id_type": "resident_id", "email": "", "gender": "",
                      "address": "", "occupation": "", "annual_income_fen": 0, "goals": "",
                      "aum_fen": 0, "branch_id": branch, "rm_id": rm_ids[i % len(rm_ids)],
                      "status": "active", "created_at": now, "updated_at": now, "version": 1}
                     for i in range(40_000)]
        for start in range(0, len(customers), 10_000):
            s.execute(insert(Customer), customers[start:start + 10_000])
        rows = []
        total = open_opps + open_opps // 5
        for i in range(total):
            cid = 1 + i % 40_000
            owner = rm_ids[cid % len(rm_ids)]
            stage = STAGES[i % 4] if i < open_opps else ("won", "lost")[i % 2]
            entered = now - timedelta(minutes=rng.randrange(1, 200 * 24 * 60))
            rows.append({"customer_id": cid, "owner_id": owner, "team_id": rms[owner],
                         "branch_id": branch, "stage": stage,
                         "product_id": 1 + i % 40 if stage != "needs" else None,
                         "amount_fen": rng.randrange(1, 500) * 1_000_000, "created_at": entered,
                         "stage_entered_at": entered, "version": 1})
            if len(rows) == 20_000:
                s.execute(insert(Opportunity), rows)
                rows = []
        if rows:
            s.execute(insert(Opportunity), rows)
    db.dispose()


def ensure(open_opps: int) -> Path:
    from crm_tui.store.migrate import head_revision

    DATA.mkdir(exist_ok=True)
    path = DATA / f"pipeline-{open_opps}-{head_revision()}-g{GEN}.db"
    if not path.exists():
        t0 = time.perf_counter()
        tmp = path.with_suffix(".tmp")
        for p in (tmp, Path(f"{tmp}.key")):
            p.unlink(missing_ok=True)
        _build(tmp, open_opps)
        Path(f"{tmp}.key").rename(f"{path}.key")
        tmp.rename(path)
        print(f"  [gen] pipeline data in {time.perf_counter() - t0:.1f} s", flush=True)
    return path


def _crm(path: Path) -> Any:
    from crm_tui.domain.kernel.context import Crm
    from crm_tui.settings import Settings
    from crm_tui.store.crypto import load_keyring
    from crm_tui.store.db import Database

    url = f"sqlite:///{path}"
    key = Path(f"{path}.key")
    return Crm(Database(url), load_keyring(key), Settings(database_url=url, key_file=key), key)


def _actor(crm: Any, username: str) -> Any:
    from sqlalchemy import select

    from crm_tui.domain.admin.auth import actor_of
    from crm_tui.store.models import Staff

    with crm.db.read() as s:
        return actor_of(s.scalars(select(Staff).where(Staff.username == username)).one())


async def _tui_paint(crm: Any, actor: Any, runs: int = 7) -> dict[str, list[float]]:
    """The board in the real app, from asking for it (reload) to the first frame whose
    terminal output shows the first card of every open column ("cards"), and to the
    first frame that also shows every column's count ("complete"); then scrolling the
    needs column to its end, from the keypress to the frame showing the next page's
    first card, after its page arrived and the cursor stepped onto it ("scroll")."""
    from crm_tui.app import CrmApp
    from crm_tui.domain.sales.board import column_cards, columns, first_pages
    from crm_tui.widgets.session import SignedIn

    app = CrmApp(crm, session=SignedIn(actor, "北京分行营业部", ""))
    app.animation_level = "none"
    out: dict[str, list[float]] = {"cards": [], "complete": [], "scroll": []}
    pages = first_pages(crm, actor)
    heads = columns(crm, actor)
    async with app.run_test(size=(140, 45)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("f5")
        await app.workers.wait_for_complete()
        await pilot.pause()
        board = app.screen.query_one("#pipeline")
        frames = Frames(app)
        firsts = {f"card-{s}": pages.pages[s][0].customer for s in STAGES}
        counts = {f"count-{c.stage}": f"{c.count:,}" for c in heads if c.stage in STAGES}
        for _ in range(runs):
            for s in STAGES:  # blank the board so the texts must be painted anew
                board.column(s).show_page([], append=False, page=1, now=pages.now)
                board.column(s).set_head(0, 0)
            await pilot.pause()
            frames.expect(**firsts, **counts)
            t0 = time.perf_counter()
            board.reload()
            await frames.wait()
            cards = max(v for k, v in frames.seen.items() if k.startswith("card-"))
            out["cards"].append((cards - t0) * 1000)
            out["complete"].append((max(frames.seen.values()) - t0) * 1000)
            await app.workers.wait_for_complete()
            await pilot.pause()
        column = board.column("needs")
        column.focus_cards()
        await pilot.pause()
        for _ in range(runs):
            have = list(column.cards)
            after = (have[-1].stage_entered_at, have[-1].id)
            following = column_cards(crm, actor, "needs", after=after, limit=1)[0]
            frames.expect(next=following.customer)
            t0 = time.perf_counter()
            column.card_list.action_cursor(len(have))  # to the end: the next page loads
            while len(column.cards) == len(have):
                await asyncio.sleep(0.001)
            column.card_list.action_cursor(1)  # and one more: onto the new page's first card
            await frames.wait()
            out["scroll"].append((frames.seen["next"] - t0) * 1000)
            await app.workers.wait_for_complete()
            await pilot.pause()
    return out


async def _textual_floor(cards: int) -> list[float]:
    """The same six lists with the same number of 4-line cards, in a bare Textual app:
    what painting this many options costs on this machine, whatever the CRM does."""
    from rich.text import Text
    from textual.app import App, ComposeResult
    from textual.widgets import OptionList

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            for i in range(6):
                yield OptionList(id=f"o{i}")

    out = []
    app = Bare()
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        for _ in range(5):
            t0 = time.perf_counter()
            for ol in app.query(OptionList):
                ol.clear_options()
                ol.add_options([Text(f"客户{i}\n产品 · ¥1,000.00\n本阶段 1d\n")
                                for i in range(cards)])
            await pilot.pause()
            out.append((time.perf_counter() - t0) * 1000)
    return out


def run_pipeline(runs: int = 30) -> list[Figure]:
    from crm_tui.domain.sales.board import FIRST_PAGE, PAGE, column_cards, first_pages, load_board

    open_opps = int(os.environ.get("BENCH_PIPELINE_OPEN", "100000"))
    path = ensure(open_opps)
    crm = _crm(path)
    conn = raw_connection(path)
    figures = [Figure("pipeline.open_opportunities", open_opps, "rows")]
    for who in ("bh1", "sup1", "rm1"):
        actor = _actor(crm, who)
        timed = measure(crm, conn, lambda _, a=actor: load_board(crm, a, limit=FIRST_PAGE),
                        list(range(runs)), warmup=3)
        if who == "bh1":
            timed_first = timed
            timed_pages = measure(crm, conn, lambda _, a=actor: first_pages(crm, a, limit=FIRST_PAGE),
                                  list(range(runs)), warmup=3)
            for q in (50, 95):
                figures.append(Figure(f"pipeline.first_cards_{who}.p{q}",
                                      percentile(timed_pages.domain_ms, q), "ms",
                                      percentile(timed_pages.floor_ms, q),
                                      note="every column's first page, without the counts"))
        for q in (50, 95):
            value = percentile(timed.domain_ms, q)
            figures.append(Figure(f"pipeline.first_paint_{who}.p{q}", value, "ms",
                                  percentile(timed.floor_ms, q),
                                  target=f"<= {TARGET_MS:g}" if q == 95 else "",
                                  met=value <= TARGET_MS if q == 95 else None))
    bh = _actor(crm, "bh1")
    pages: list[Any] = [None]  # the keyset positions of 40 successive pages of "needs"
    after = None
    for _ in range(40):
        cards = column_cards(crm, bh, "needs", after=after, limit=PAGE)
        after = (cards[-1].stage_entered_at, cards[-1].id)
        pages.append(after)
    timed = measure(crm, conn, lambda pos: column_cards(crm, bh, "needs", after=pos, limit=PAGE),
                    pages, warmup=5)
    for q in (50, 95):
        figures.append(Figure(f"pipeline.column_scroll_page.p{q}", percentile(timed.domain_ms, q),
                              "ms", percentile(timed.floor_ms, q),
                              note=f"{PAGE} cards per page, 40 pages down"))
    tui = asyncio.run(_tui_paint(crm, bh))
    floor = asyncio.run(_textual_floor(FIRST_PAGE))
    load = os.getloadavg()[0]
    figures.append(Figure("pipeline.load_avg_1m", load, "procs", note=f"{os.cpu_count()} CPU(s), shared"))
    notes = {"cards": "reload to the first frame showing every open column's first card",
             "complete": "reload to the first frame showing every column's count too",
             "scroll": "cursor to a column's last card, then one down: to the frame "
                       "showing the next page's first card"}
    sql = {"cards": timed_pages.floor_ms, "complete": timed_first.floor_ms,
           "scroll": timed.floor_ms}
    for name, values in tui.items():
        value = percentile(values, 50)
        target = name != "scroll"
        figures.append(Figure(f"pipeline.tui_{name}_bh1.p50", value, "ms", percentile(sql[name], 50),
                              target=f"<= {TARGET_MS:g}" if target else "",
                              met=value <= TARGET_MS if target else None,
                              note=notes[name] + "; headless 140x45; floor: raw SQL of the same"))
        figures.append(Figure(f"pipeline.tui_{name}_bh1.max", max(values), "ms"))
    figures.append(Figure("pipeline.textual_floor.p50", percentile(floor, 50), "ms",
                          note="a bare Textual app painting six OptionLists of the same cards"))
    conn.close()
    crm.db.dispose()
    return figures

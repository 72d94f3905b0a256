"""A full KPI refresh at 1M customers, 1M opportunities and 1M tickets (times BENCH_SCALE):
what the KPI area does on `r` — every figure of the three panels for this quarter and the
previous one (`kpis_with_previous`) — bank-wide (compliance) and for one branch head.

The floor is the raw SQL of the same aggregates in the same run: the statements the domain
sent, captured and replayed on a plain sqlite3 connection (bench.queries), each side warm.
Target ≤ 1.5× the floor. Then responsiveness: the real KPI pane in a headless app while its
refresh worker runs — the lateness of a 50 ms timer and the round trip of keystrokes (cursor
moves in the sales table, timed from the key entering the driver's queue to the cursor
having moved), target p95 ≤ 100 ms. Data: bench.kpi_data (cached).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from pathlib import Path
from typing import Any

from bench.generate import key_path, log
from bench.kpi_data import ensure_kpi_db
from bench.queries import capture, raw_connection, replay
from bench.report import Figure, percentile

RATIO_TARGET = 1.5
LAG_TARGET_MS = 100.0


def _crm(path: Path) -> Any:
    from crm_tui.domain.kernel.context import Crm
    from crm_tui.settings import Settings
    from crm_tui.store.crypto import load_keyring
    from crm_tui.store.db import Database

    url = f"sqlite:///{path}"
    return Crm(Database(url), load_keyring(key_path(path)),
               Settings(database_url=url, key_file=key_path(path)), key_path(path))


def _actor(crm: Any, username: str) -> Any:
    from sqlalchemy import select

    from crm_tui.domain.admin.auth import actor_of
    from crm_tui.store.models import Staff

    with crm.db.read() as s:
        return actor_of(s.scalars(select(Staff).where(Staff.username == username)).one())


def _refresh(crm: Any, conn: Any, actor: Any, runs: int) -> tuple[list[float], list[float]]:
    """Seconds per refresh through the domain, and per replay of its captured SQL."""
    from crm_tui.domain.reporting.base import KpiFilter
    from crm_tui.domain.reporting.kpi import kpis_with_previous
    from crm_tui.domain.reporting.period import current_quarter

    f = KpiFilter(current_quarter(crm.tz))
    t0 = time.perf_counter()
    with capture(crm.db.read_engine) as captured:
        captured.append([])
        kpis_with_previous(crm, actor, f)  # warm-up, and the statements it sends
    statements = captured[0]
    log(f"kpi warm-up as {actor.username}: {time.perf_counter() - t0:.1f} s, "
        f"{len(statements)} statements (load {os.getloadavg()[0]:.1f})")
    replay(conn, statements)  # the raw side warm too
    domain, floor = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        kpis_with_previous(crm, actor, f)
        domain.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        replay(conn, statements)
        floor.append(time.perf_counter() - t0)
        log(f"kpi refresh as {actor.username}: {domain[-1]:.2f} s, raw {floor[-1]:.2f} s "
            f"(load {os.getloadavg()[0]:.1f})")
    return domain, floor


async def _responsiveness(crm: Any, actor: Any) -> tuple[list[float], list[float], float]:
    """Timer lateness and keystroke round trips (ms) while the KPI pane refreshes."""
    from textual import events
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from crm_tui.screens.kpi import KpiPane
    from crm_tui.widgets.session import SignedIn

    class Host(App[None]):
        def __init__(self) -> None:
            super().__init__()
            self.crm, self.session, self.today = crm, SignedIn(actor, "", ""), None

        def compose(self) -> ComposeResult:
            yield KpiPane()

    lags: list[float] = []
    keys: list[float] = []
    app = Host()
    async with app.run_test(size=(140, 45)) as pilot:
        pane = app.query_one(KpiPane)
        await app.workers.wait_for_complete()  # the mount's own refresh: not measured
        await pilot.pause()
        pane.query_one("#kpi-sales", DataTable).focus()
        last = [time.perf_counter()]

        def tick() -> None:
            now = time.perf_counter()
            lags.append(max(0.0, (now - last[0] - 0.05) * 1000))
            last[0] = now

        t0 = time.perf_counter()
        pane.action_refresh()
        last[0] = time.perf_counter()
        timer = app.set_interval(0.05, tick)
        table = pane.query_one("#kpi-sales", DataTable)
        while pane.busy("kpi"):
            # a key straight into the driver's queue (pilot.press would wait for the whole
            # process to go idle); the round trip ends when the cursor has moved
            before = table.cursor_row
            key = "down" if before == 0 else "up"
            k0 = time.perf_counter()
            app._driver.send_message(events.Key(key, None))  # type: ignore[union-attr]
            while table.cursor_row == before and time.perf_counter() - k0 < 10:
                await asyncio.sleep(0.001)
            keys.append((time.perf_counter() - k0) * 1000)
            await asyncio.sleep(0.1)
        took = time.perf_counter() - t0
        timer.stop()
    return lags, keys, took


def run_kpi(scale: float, runs: int | None = None) -> list[Figure]:
    runs = runs or int(os.environ.get("BENCH_KPI_RUNS", "3"))
    n = max(10_000, round(1_000_000 * scale))
    path, built = ensure_kpi_db(n)
    crm = _crm(path)
    conn = raw_connection(path)
    figures = [Figure("kpi.rows_each", n, "rows", note="customers = opportunities = tickets"),
               Figure("kpi.load_avg_1m", os.getloadavg()[0], "procs",
                      note=f"{os.cpu_count()} CPU(s), shared")]
    if built is not None:
        figures.append(Figure("kpi.generation_s", built, "s", note="cached after the first run"))
    for label, username in (("bank", "comp1"), ("branch", "bh1")):
        domain, floor = _refresh(crm, conn, _actor(crm, username), runs)
        value, raw = statistics.median(domain), statistics.median(floor)
        figures.append(Figure(f"kpi.refresh_{label}", value, "s", raw,
                              target=f"<= {RATIO_TARGET:g}x floor",
                              met=value <= RATIO_TARGET * raw,
                              note=f"this quarter + the previous, median of {runs}"))
    conn.close()
    lags, keys, took = asyncio.run(_responsiveness(crm, _actor(crm, "comp1")))
    figures += [
        Figure("kpi.ui_refresh_s", took, "s", note="the pane's worker, bank-wide"),
        Figure("kpi.ui_timer_lag.p95", percentile(lags, 95), "ms",
               target=f"<= {LAG_TARGET_MS:g}", met=percentile(lags, 95) <= LAG_TARGET_MS,
               note=f"{len(lags)} ticks of a 50 ms timer during the refresh"),
        Figure("kpi.ui_keypress.p95", percentile(keys, 95), "ms",
               target=f"<= {LAG_TARGET_MS:g}", met=percentile(keys, 95) <= LAG_TARGET_MS,
               note=f"{len(keys)} cursor keys during the refresh"),
        Figure("kpi.ui_keypress.max", max(keys, default=float("nan")), "ms"),
    ]
    crm.db.dispose()
    return figures

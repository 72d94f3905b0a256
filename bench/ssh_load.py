"""50 concurrent SSH sessions against one `crm serve-ssh`: keystroke-to-screen latency, the
time to open a profile, the CPU a keystroke costs and the memory each session's app costs.

The gateway runs in its own process (as in production) on a copy of the bench database; a
client process (this one) opens the sessions over loopback with asyncssh and renders each
screen with pyte. Everyone signs in first (the morning). Then each person, at her own
moment within BENCH_SSH_SPREAD_S, does what a lookup is: F2 to the customers, types a
customer's name one key at a time with a human pause between keys (a person's inter-key
interval: lognormal, median 250 ms, 120 ms-1.2 s), waits for the matches and opens the
profile with Enter. A keystroke's latency is the time from sending the key to the first
screen update that shows it in the search box.

Before that, one session does the same alone (nobody else typing) and its app process's
CPU is read per step from /proc: what a keystroke, its search, and a profile cost. With
those, capacity is plain arithmetic: N sessions x CPU per lookup over the spread against
the cores, printed beside the latencies.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from bench.report import Figure, percentile

IDLE_WINDOW_S = 5.0
PLACEHOLDER = "Name, pinyin"
SIGNED_IN = "Signed in"
PROFILE = "Customer 360"
F2 = b"\x1bOQ"
SETTLE_S = 0.8  # after a step of the solo run: its search and repaint are done


def key_gap(rng: random.Random) -> float:
    """A person's pause between two keys of a name (median 250 ms)."""
    return min(1.2, max(0.12, rng.lognormvariate(math.log(0.25), 0.45)))


def app_cpu_ms(pid: int) -> float:
    """CPU time (all threads) of process `pid` so far, from the scheduler's ns counter."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/schedstat") as fh:
            total += int(fh.read().split()[0])
    return total / 1e6


def children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as fh:
        return [int(x) for x in fh.read().split()]


class Term:
    def __init__(self, cols: int, rows: int) -> None:
        import pyte

        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.changed = asyncio.Event()
        self.closed = False

    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def wait(self, ok: Any, timeout: float = 60.0) -> float:
        start = time.perf_counter()
        while not ok():
            self.changed.clear()
            left = timeout - (time.perf_counter() - start)
            if left <= 0 or self.closed:
                raise TimeoutError(self.text())
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except TimeoutError:
                pass
        return time.perf_counter() - start


def _client_session(term: Term) -> Any:
    import asyncssh

    class Session(asyncssh.SSHClientSession[bytes]):
        def data_received(self, data: bytes, datatype: Any) -> None:
            term.stream.feed(data)
            term.changed.set()

        def connection_lost(self, exc: Exception | None) -> None:
            term.closed = True
            term.changed.set()

    return Session()


def _prepare(source: Path, workdir: Path, sessions: int) -> list[dict[str, Any]]:
    """Copy the store, give each session an RM with a key and a name from her book."""
    import asyncssh

    from crm_tui.domain.admin import ssh_keys
    from crm_tui.domain.kernel.actor import system_actor
    from crm_tui.domain.kernel.context import open_crm
    from crm_tui.domain.policy.document import activate_policy, default_policy_text

    db = workdir / "ssh.db"
    with sqlite3.connect(source) as src, sqlite3.connect(db) as dst:
        src.backup(dst)
    shutil.copy(f"{source}.key", f"{db}.key")
    conn = sqlite3.connect(db)
    rms = conn.execute("SELECT s.id, s.username, s.display_name FROM staff s WHERE s.role = 'rm' "
                       "AND EXISTS (SELECT 1 FROM customer c WHERE c.rm_id = s.id) "
                       "ORDER BY s.id LIMIT ?", (sessions,)).fetchall()
    conn.execute("UPDATE staff SET language = 'en'")
    conn.commit()
    rng = random.Random(11)
    per_user = math.ceil(sessions / len(rms))
    crm = open_crm(str(db))
    with crm.db.write() as s:
        activate_policy(crm.db, s, system_actor("bench"), default_policy_text().replace(
            "max_sessions_per_user = 3", f"max_sessions_per_user = {per_user + 2}"))
    plans = []
    keys: dict[int, Any] = {}
    for i in range(sessions):
        sid, username, display = rms[i % len(rms)]
        if sid not in keys:
            keys[sid] = asyncssh.generate_private_key("ssh-ed25519")
            ssh_keys.add_key(crm, system_actor("bench"), username,
                             keys[sid].export_public_key("openssh").decode())
        names = [n for (n,) in conn.execute(
            "SELECT name FROM customer WHERE rm_id = ? ORDER BY id LIMIT 50", (sid,))]
        plans.append({"username": username, "display": display, "key": keys[sid],
                      "query": rng.choice(names)})
    conn.close()
    crm.db.dispose()
    return [{**p, "db": db} for p in plans]


def _children_memory(pid: int) -> tuple[list[int], list[int]]:
    """RSS and PSS (KiB) of each direct child of `pid` (one app process per session)."""
    rss, pss = [], []
    for child in children(pid):
        try:
            with open(f"/proc/{child}/smaps_rollup") as fh:
                fields = {line.split(":")[0]: int(line.split()[1]) for line in fh if ":" in line
                          and line.split()[1].isdigit()}
        except (OSError, ValueError, IndexError):
            continue
        rss.append(fields.get("Rss", 0))
        pss.append(fields.get("Pss", 0))
    return rss, pss


class Person:
    """One SSH session and the lookup its user does."""

    def __init__(self, chan: Any, term: Term, plan: dict[str, Any]) -> None:
        self.chan, self.term, self.plan = chan, term, plan

    @staticmethod
    async def connect(port: int, plan: dict[str, Any], stack: Any) -> Person:
        import asyncssh

        term = Term(100, 30)
        conn = await stack.enter_async_context(asyncssh.connect(
            "127.0.0.1", port, username=plan["username"], client_keys=[plan["key"]],
            known_hosts=None, agent_path=None))
        chan, _ = await conn.create_session(lambda: _client_session(term), encoding=None,
                                            term_type="xterm-256color", term_size=(100, 30))
        await term.wait(lambda: SIGNED_IN in term.text(), 180)
        return Person(chan, term, plan)

    def row(self) -> int:
        return next(r for r, line in enumerate(self.term.screen.display) if PLACEHOLDER in line)

    async def to_customers(self) -> float:
        sent = time.perf_counter()
        self.chan.write(F2)
        await self.term.wait(lambda: PLACEHOLDER in self.term.text(), 60)
        return time.perf_counter() - sent

    async def key(self, query: str, k: int, row: int) -> float:
        """Send the k-th key of `query`; seconds until the box shows the first k."""
        prefix = query[:k]
        sent = time.perf_counter()
        self.chan.write(query[k - 1].encode())
        await self.term.wait(lambda: prefix in self.term.screen.display[row], 60)
        return time.perf_counter() - sent

    async def open_profile(self) -> float:
        """Enter in the box opens the first match (after the search if it is still running)."""
        sent = time.perf_counter()
        self.chan.write(b"\r")
        await self.term.wait(lambda: PROFILE in self.term.text(), 60)
        return time.perf_counter() - sent


async def _solo(port: int, plan: dict[str, Any], gateway_pid: int) -> dict[str, float]:
    """One lookup with nobody else busy: the app process's CPU per step."""
    async with AsyncExitStack() as stack:
        before = set(children(gateway_pid))
        person = await Person.connect(port, plan, stack)
        pid = (set(children(gateway_pid)) - before).pop()
        await asyncio.sleep(3.0)  # the warm-up imports
        c0 = app_cpu_ms(pid)
        await asyncio.sleep(IDLE_WINDOW_S)
        idle = (app_cpu_ms(pid) - c0) / IDLE_WINDOW_S  # ms of CPU per second, untouched

        async def step(action: Any) -> float:
            c = app_cpu_ms(pid)
            await action()
            await asyncio.sleep(SETTLE_S)
            return app_cpu_ms(pid) - c - idle * SETTLE_S

        area = await step(person.to_customers)
        row = person.row()
        query = plan["query"]
        echoes, latencies, keys = [], [], []
        for k in range(1, len(query) + 1):
            c = app_cpu_ms(pid)
            latencies.append(await person.key(query, k, row))
            await asyncio.sleep(0.05)  # the echo's repaint; the search waits for its debounce
            echoes.append(app_cpu_ms(pid) - c - idle * 0.05)
            await asyncio.sleep(SETTLE_S)
            keys.append(app_cpu_ms(pid) - c - idle * (SETTLE_S + 0.05))
        profile = await step(person.open_profile)
    return {"idle_ms_per_s": idle, "area_ms": area, "key_ms": sum(keys) / len(keys),
            "echo_ms": sum(echoes) / len(echoes), "profile_ms": profile, "keys": len(keys),
            "latency_ms": max(latencies) * 1000, "lookup_ms": area + sum(keys) + profile}


async def _settle(gateway_pid: int, quiet_pct: float = 2.0, limit_s: float = 180.0) -> float:
    """Wait until the sign-in storm is over: the app processes together use under
    `quiet_pct` % of a core per session (their warm-up imports done). The lookups are
    measured with fifty sessions open, not while fifty apps start."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit_s:
        pids = children(gateway_pid)
        before = {pid: app_cpu_ms(pid) for pid in pids}
        await asyncio.sleep(2.0)
        used = sum(app_cpu_ms(pid) - ms for pid, ms in before.items() if os.path.exists(
            f"/proc/{pid}"))
        if used / 2.0 / 10 <= quiet_pct * max(1, len(pids)):  # ms/s ÷ 10 = % of a core
            break
    return time.perf_counter() - started


async def _drive(port: int, plans: list[dict[str, Any]], gateway_pid: int,
                 spread: float) -> dict[str, Any]:
    rng = random.Random(7)
    starts: list[float] = []
    areas: list[float] = []
    keystrokes: list[float] = []
    profiles: list[float] = []
    failures: list[str] = []
    out: dict[str, Any] = {}
    people: list[Person | None] = [None] * len(plans)

    async def sign_in(i: int, stack: AsyncExitStack) -> None:
        await asyncio.sleep(i * 0.15)  # connect over ~7 s, as a morning would
        t0 = time.perf_counter()
        try:
            people[i] = await Person.connect(port, plans[i], stack)
            starts.append(time.perf_counter() - t0)
        except Exception as exc:  # noqa: BLE001 - counted and printed, the run goes on
            failures.append(f"{plans[i]['username']}: {type(exc).__name__} at sign-in: {exc}")

    async def lookup(person: Person, delay: float, gaps: list[float]) -> None:
        await asyncio.sleep(delay)  # people start at their own time
        stage = "F2"
        try:
            areas.append(await person.to_customers())
            row = person.row()
            query = person.plan["query"]
            stage = f"typing {query}"
            for k in range(1, len(query) + 1):
                keystrokes.append(await person.key(query, k, row))
                await asyncio.sleep(gaps[k - 1])
            stage = "opening the profile"
            profiles.append(await person.open_profile())
        except Exception as exc:  # noqa: BLE001
            failures.append(f"{person.plan['username']}: {type(exc).__name__} at {stage}:\n{exc}")

    async with AsyncExitStack() as stack:
        await asyncio.gather(*(sign_in(i, stack) for i in range(len(plans))))
        out["settled_s"] = await _settle(gateway_pid)
        rss, pss = _children_memory(gateway_pid)
        out.update(rss=rss, pss=pss)
        cpu0 = {pid: app_cpu_ms(pid) for pid in children(gateway_pid)}
        await asyncio.sleep(IDLE_WINDOW_S)  # everyone signed in, nobody typing
        cpu1 = {pid: app_cpu_ms(pid) for pid in cpu0}
        idle = sum(cpu1[p] - cpu0[p] for p in cpu0) / IDLE_WINDOW_S  # ms/s, all sessions
        out["idle_pct"] = idle / 10 / max(1, len(cpu0))  # % of a core per session
        ready = [p for p in people if p is not None]
        plan = [(rng.uniform(0, spread), [key_gap(rng) for _ in p.plan["query"]]) for p in ready]
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        mine0, gw0 = time.process_time(), app_cpu_ms(gateway_pid)
        await asyncio.gather(*(lookup(p, d, g) for p, (d, g) in zip(ready, plan, strict=True)))
        busy_s = time.perf_counter() - t0
        # The other two processes on the same cores: this client (pyte renders 50 screens)
        # and the gateway (SSH crypto and relay), as shares of a core over the lookups.
        out["client_pct"] = (time.process_time() - mine0) / busy_s * 100
        out["gateway_pct"] = (app_cpu_ms(gateway_pid) - gw0) / busy_s / 10
        cpu2 = {pid: app_cpu_ms(pid) for pid in cpu1 if os.path.exists(f"/proc/{pid}")}
        out["lookup_cpu_ms"] = (sum(cpu2[p] - cpu1[p] for p in cpu2) - idle * busy_s) / max(
            1, len(profiles))
        out["busy_s"] = busy_s
        out["load"] = (load0, os.getloadavg()[0])
    out.update(starts=starts, areas=areas, keystrokes=keystrokes, profiles=profiles,
               failures=failures)
    return out


def run_ssh_load(source: Path, sessions: int = 50, spread: float = 60.0) -> list[Figure]:
    print(f"\nSSH: {sessions} concurrent sessions on loopback; each looks a customer up at a "
          f"random moment within {spread:g} s of the others", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="crm-ssh-bench-"))
    try:
        plans = _prepare(source, workdir, sessions)
        env = {**os.environ, "CRM_LANG": "en"}
        gw = subprocess.Popen([sys.executable, "-m", "crm_tui.cli", "serve-ssh", "--port", "0",
                               "--db", str(plans[0]["db"])], stdout=subprocess.PIPE, text=True,
                              env=env)
        try:
            line = gw.stdout.readline() if gw.stdout else ""
            port = int(line.split("127.0.0.1:")[1].split()[0])
            solo = asyncio.run(_solo(port, plans[0], gw.pid))
            print(f"  alone: a key's echo {solo['echo_ms']:.0f} ms CPU (slowest echo "
                  f"{solo['latency_ms']:.0f} ms), with its search {solo['key_ms']:.0f} ms; the profile "
                  f"{solo['profile_ms']:.0f} ms, F2 {solo['area_ms']:.0f} ms; one lookup "
                  f"{solo['lookup_ms']:.0f} ms (load {os.getloadavg()[0]:.1f})", flush=True)
            time.sleep(2.0)  # its session row closes; the cap counts it no more
            result = asyncio.run(_drive(port, plans, gw.pid, spread))
            with open(f"/proc/{gw.pid}/status") as fh:
                gw_rss = next(int(x.split()[1]) for x in fh if x.startswith("VmRSS"))
        finally:
            gw.terminate()
            gw.wait(30)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for failure in result["failures"][:2]:
        print(f"  failed: {failure}")
    return _figures(sessions, spread, solo, result, gw_rss)


def _figures(sessions: int, spread: float, solo: dict[str, float], result: dict[str, Any],
             gw_rss: int) -> list[Figure]:
    ks = [s * 1000 for s in result["keystrokes"]]
    prof = [s * 1000 for s in result["profiles"]]
    rss, pss = result.get("rss", []), result.get("pss", [])
    p95 = percentile(ks, 95)
    cores = os.cpu_count() or 1
    demand = sessions * solo["lookup_ms"] / 1000 / spread  # cores the lookups need on average
    load0, load1 = result["load"]
    note = (f"load avg {load0:.1f} → {load1:.1f} on {cores} CPU(s); the lookups alone need "
            f"{sessions} x {solo['lookup_ms']:.0f} ms / {spread:g} s = {demand:.2f} cores")
    return [
        Figure("ssh.sessions_ok", len(result["profiles"]), "sessions", target=f">= {sessions}",
               met=len(result["profiles"]) >= sessions,
               note=f"{len(result['failures'])} failed"),
        Figure("ssh.sign_in_p50", percentile(result["starts"], 50) * 1000, "ms",
               note="connect + key auth + app start to the main screen, 50 arriving over 7 s"),
        Figure("ssh.sign_in_p95", percentile(result["starts"], 95) * 1000, "ms",
               note=f"then {result['settled_s']:.0f} s until the app processes were quiet"),
        Figure("ssh.keystroke_p50", percentile(ks, 50), "ms", note=f"{len(ks)} keystrokes"),
        Figure("ssh.keystroke_p95", p95, "ms", target="<= 150", met=p95 <= 150, note=note),
        Figure("ssh.f2_customers_p95", percentile([a * 1000 for a in result["areas"]], 95), "ms"),
        Figure("ssh.open_profile_p50", percentile(prof, 50), "ms"),
        Figure("ssh.open_profile_p95", percentile(prof, 95), "ms"),
        Figure("ssh.cpu_per_keystroke", solo["key_ms"], "ms",
               note=f"one session alone: the key, its debounced search and the rows shown "
                    f"(the echo alone {solo['echo_ms']:.0f} ms; slowest echo "
                    f"{solo['latency_ms']:.0f} ms)"),
        Figure("ssh.cpu_per_profile", solo["profile_ms"], "ms", note="one session alone"),
        Figure("ssh.cpu_per_lookup", result["lookup_cpu_ms"], "ms",
               note=f"under load, all sessions: F2 + name + profile (alone "
                    f"{solo['lookup_ms']:.0f} ms)"),
        Figure("ssh.child_rss_mean", (sum(rss) / len(rss) / 1024) if rss else math.nan, "MiB",
               note=f"{len(rss)} app processes; PSS mean "
                    f"{(sum(pss) / len(pss) / 1024) if pss else math.nan:.1f} MiB"),
        Figure("ssh.gateway_rss", gw_rss / 1024, "MiB"),
        Figure("ssh.lookup_phase_cpu", result["lookup_cpu_ms"] * len(prof) / 10
               / max(result["busy_s"], 1e-9), "%",
               note=f"of one core for the apps over {result['busy_s']:.0f} s; gateway "
                    f"{result['gateway_pct']:.0f} %, this client (pyte) "
                    f"{result['client_pct']:.0f} %"),
        Figure("ssh.idle_cpu_per_session", result.get("idle_pct", math.nan), "%",
               note=f"of one core, signed in and untouched for {IDLE_WINDOW_S:g} s"),
    ]

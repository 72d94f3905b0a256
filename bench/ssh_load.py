"""50 concurrent SSH sessions against one `crm serve-ssh`: keystroke-to-screen latency, the
time to open a profile, and the memory each session's app process costs.

The gateway runs in its own process (as in production) on a copy of the bench database; a
client process (this one) opens the sessions over loopback with asyncssh, renders each
screen with pyte, and once every session is signed in, types a customer's name one key at a
time (a key every ~120 ms, like a person) and opens the profile. A keystroke's latency is
the time from sending the key to the search box showing it. Sessions start typing at random
moments within BENCH_SSH_SPREAD_S (default 20 s): all connected at once, not all typing in
the same 100 ms.
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
from pathlib import Path
from typing import Any

from bench.report import Figure, percentile

TYPE_GAP_S = 0.12
IDLE_WINDOW_S = 5.0
PLACEHOLDER = "Name, pinyin"


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
            "max_sessions_per_user = 3", f"max_sessions_per_user = {per_user + 1}"))
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
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            if ppid != pid:
                continue
            with open(f"/proc/{entry}/smaps_rollup") as fh:
                fields = {line.split(":")[0]: int(line.split()[1]) for line in fh if ":" in line
                          and line.split()[1].isdigit()}
            rss.append(fields.get("Rss", 0))
            pss.append(fields.get("Pss", 0))
        except (OSError, ValueError, IndexError):
            continue
    return rss, pss


def _children_cpu(pid: int) -> dict[int, int]:
    """CPU ticks (user + system) of each direct child of `pid`."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    out[int(entry)] = int(fields[11]) + int(fields[12])
            except (OSError, ValueError, IndexError):
                continue
    return out


async def _drive(port: int, plans: list[dict[str, Any]], gateway_pid: int,
                 spread: float) -> dict[str, Any]:
    import asyncssh

    n = len(plans)
    signed_in = asyncio.Event()
    ready = 0
    starts: list[float] = []
    keystrokes: list[float] = []
    profiles: list[float] = []
    failures: list[str] = []
    memory: dict[str, Any] = {}
    done = asyncio.Event()
    finished = 0

    async def one(i: int, plan: dict[str, Any]) -> None:
        nonlocal ready, finished
        counted = False
        stage = "sign-in"
        await asyncio.sleep(i * 0.15)  # connect over ~7 s, as a morning would
        term = Term(100, 30)
        try:
            t0 = time.perf_counter()
            async with asyncssh.connect("127.0.0.1", port, username=plan["username"],
                                        client_keys=[plan["key"]], known_hosts=None,
                                        agent_path=None) as conn:
                chan, _ = await conn.create_session(lambda: _client_session(term), encoding=None,
                                                    term_type="xterm-256color", term_size=(100, 30))
                await term.wait(lambda: PLACEHOLDER in term.text(), 120)
                starts.append(time.perf_counter() - t0)
                row = next(r for r, line in enumerate(term.screen.display) if PLACEHOLDER in line)
                counted = True
                ready += 1
                if ready == n:
                    signed_in.set()
                await signed_in.wait()
                await idle_measured.wait()
                await asyncio.sleep(random.uniform(0, spread))  # people start at their own time
                query = plan["query"]
                stage = f"typing {query}"
                for k in range(1, len(query) + 1):
                    prefix = query[:k]
                    sent = time.perf_counter()
                    chan.write(query[k - 1].encode())
                    await term.wait(lambda p=prefix: p in term.screen.display[row], 30)
                    keystrokes.append(time.perf_counter() - sent)
                    await asyncio.sleep(TYPE_GAP_S)
                await term.wait(lambda: "Matches:" in term.text() or "First " in term.text(), 30)
                stage = "opening the profile"
                sent = time.perf_counter()
                chan.write(b"\x1b[B")  # down to the results
                await asyncio.sleep(0.3)
                chan.write(b"\r")  # Enter opens the profile
                await term.wait(lambda: "Customer 360" in term.text(), 30)
                profiles.append(time.perf_counter() - sent)
                finished += 1
                if finished == n:
                    done.set()
                await done.wait()
        except Exception as exc:  # noqa: BLE001 - counted and printed, the run goes on
            failures.append(f"{plan['username']}: {type(exc).__name__} at {stage}:\n{exc}")
            if not counted:
                ready += 1
            if ready >= n:
                signed_in.set()
            finished += 1
            if finished >= n:
                done.set()

    idle_measured = asyncio.Event()

    async def sample_memory() -> None:
        await signed_in.wait()
        rss, pss = _children_memory(gateway_pid)
        memory.update(rss=rss, pss=pss)
        before = _children_cpu(gateway_pid)
        await asyncio.sleep(IDLE_WINDOW_S)  # everyone signed in, nobody typing
        after = _children_cpu(gateway_pid)
        ticks = sum(after.get(pid, 0) - t for pid, t in before.items())
        memory["idle_cpu_pct"] = ticks / os.sysconf("SC_CLK_TCK") / IDLE_WINDOW_S * 100 / max(
            1, len(before))
        idle_measured.set()
        await done.wait()  # the typing phase: the app processes' CPU per keystroke
        end = _children_cpu(gateway_pid)
        busy = sum(end.get(pid, 0) - t for pid, t in after.items()) / os.sysconf("SC_CLK_TCK")
        memory["cpu_ms_per_key"] = busy * 1000 / max(1, len(keystrokes) + len(profiles))

    started = time.perf_counter()
    await asyncio.gather(sample_memory(), *(one(i, p) for i, p in enumerate(plans)))
    return {"starts": starts, "keystrokes": keystrokes, "profiles": profiles,
            "failures": failures, "memory": memory, "seconds": time.perf_counter() - started}


def run_ssh_load(source: Path, sessions: int = 50, spread: float = 20.0) -> list[Figure]:
    print(f"\nSSH: {sessions} concurrent sessions on loopback; each starts typing at a random "
          f"moment within {spread:g} s of the others", flush=True)
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
            load_before = os.getloadavg()[0]
            result = asyncio.run(_drive(port, plans, gw.pid, spread))
            load_after = os.getloadavg()[0]
            with open(f"/proc/{gw.pid}/status") as fh:
                gw_rss = next(int(x.split()[1]) for x in fh if x.startswith("VmRSS"))
        finally:
            gw.terminate()
            gw.wait(30)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for failure in result["failures"][:2]:
        print(f"  failed: {failure}")
    ks = [s * 1000 for s in result["keystrokes"]]
    prof = [s * 1000 for s in result["profiles"]]
    rss, pss = result["memory"].get("rss", []), result["memory"].get("pss", [])
    p95 = percentile(ks, 95)
    note = f"load avg {load_before:.1f} → {load_after:.1f} on {os.cpu_count()} CPU(s)"
    return [
        Figure("ssh.sessions_ok", len(result["profiles"]), "sessions", target=f">= {sessions}",
               met=len(result["profiles"]) >= sessions,
               note=f"{len(result['failures'])} failed"),
        Figure("ssh.sign_in_p50", percentile(result["starts"], 50) * 1000, "ms",
               note="connect + key auth + app start to the main screen"),
        Figure("ssh.sign_in_p95", percentile(result["starts"], 95) * 1000, "ms"),
        Figure("ssh.keystroke_p50", percentile(ks, 50), "ms", note=f"{len(ks)} keystrokes"),
        Figure("ssh.keystroke_p95", p95, "ms", target="<= 150", met=p95 <= 150, note=note),
        Figure("ssh.open_profile_p50", percentile(prof, 50), "ms"),
        Figure("ssh.open_profile_p95", percentile(prof, 95), "ms"),
        Figure("ssh.child_rss_mean", (sum(rss) / len(rss) / 1024) if rss else math.nan, "MiB",
               note=f"{len(rss)} app processes; PSS mean "
                    f"{(sum(pss) / len(pss) / 1024) if pss else math.nan:.1f} MiB"),
        Figure("ssh.gateway_rss", gw_rss / 1024, "MiB"),
        Figure("ssh.cpu_per_keystroke", result["memory"].get("cpu_ms_per_key", math.nan), "ms",
               note="app-process CPU in the typing phase / (keystrokes + profile opens)"),
        Figure("ssh.idle_cpu_per_session", result["memory"].get("idle_cpu_pct", math.nan), "%",
               note=f"of one core, signed in and untouched for {IDLE_WINDOW_S:g} s"),
    ]

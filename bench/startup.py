"""Cold start: spawn on a 120×40 pseudo-terminal and time until the first frame shows a known
string — the real `crm` login screen next to a minimal Textual app started the same way."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from bench.minimal_app import READY
from bench.report import Figure, percentile

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|[\x00-\x1f]")
TIMEOUT_S = 30.0


def _child_setup() -> None:
    """In the child: its own session with the pty as controlling terminal, as a login has."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def time_to_text(argv: list[str], needle: str, env: dict[str, str]) -> float:
    """Seconds from spawn until `needle` is on the screen (escape sequences stripped)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                            preexec_fn=_child_setup, close_fds=True)
    os.close(slave)
    seen = ""
    raw = b""
    try:
        while time.perf_counter() - started < TIMEOUT_S:
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            raw += chunk
            seen = _ANSI.sub("", raw.decode("utf-8", "ignore"))
            if needle in seen:
                return time.perf_counter() - started
        tail = seen[-300:].strip()
        raise RuntimeError(f"{argv[0]} never showed {needle!r} (exit {proc.poll()}): {tail}")
    finally:
        _stop(proc)
        os.close(master)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=3)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("COLUMNS", "LINES", "CRM_KEY", "CRM_DATABASE_URL", "TEXTUAL")}
    env.update(TERM="xterm-256color", CRM_LANG="en", COLORTERM="truecolor")
    return env


def login_needle() -> str:
    """A string of the login screen's first frame, in the language the child will use."""
    from crm_tui import i18n

    i18n.set_language("en")
    key = "tui.login.subtitle"
    if not i18n.has_key(key):
        raise RuntimeError(f"the login screen's catalog key {key} is missing")
    return i18n.t(key)


def run_startup(db: Path, runs: int) -> list[Figure]:
    crm = Path(sys.executable).with_name("crm")
    if not crm.exists():
        raise RuntimeError(f"{crm} not found: install the project (make venv)")
    minimal = [sys.executable, str(Path(__file__).with_name("minimal_app.py"))]
    app = [str(crm), "--db", str(db)]
    needle = login_needle()
    env = _env()
    time_to_text(minimal, READY, env)  # warm the page cache and .pyc files for both
    time_to_text(app, needle, env)
    mins, apps = [], []
    for _ in range(runs):  # interleaved, so drift in machine load hits both alike
        mins.append(time_to_text(minimal, READY, env) * 1000)
        apps.append(time_to_text(app, needle, env) * 1000)
    out = []
    for q in (50, 95):
        value, floor = percentile(apps, q), percentile(mins, q)
        out.append(Figure(f"startup.login_screen.p{q}", value, "ms", floor,
                          target="<= 1.5x floor" if q == 50 else "",
                          met=(value <= 1.5 * floor) if q == 50 else None))
    return out

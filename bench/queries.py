"""Customer search and opening a profile, through the domain and as the raw-SQL floor.

The floor is the very SQL the domain sent (captured from the engine on an untimed pass),
replayed through a plain sqlite3 connection in one read transaction. So the ratio is what
the domain layer (SQLAlchemy, sessions, scope, decrypting and masking) costs on top.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from bench.report import Figure, percentile

TARGET_MS = 10.0
SEARCH_KINDS = ("name_prefix", "pinyin_initials", "full_pinyin", "one_letter", "phone_last4",
                "national_id")
_TXN = ("BEGIN", "COMMIT", "ROLLBACK")

Statements = list[tuple[str, Any]]


@contextmanager
def capture(engine: Engine) -> Iterator[list[Statements]]:
    """Collect, per call, every statement and its parameters as sent to the driver."""
    calls: list[Statements] = []

    def listen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        if statement.strip().upper() not in _TXN:
            calls[-1].append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield calls
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def raw_connection(path: Path) -> sqlite3.Connection:
    """A plain connection set up the way the app sets up its own."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def replay(conn: sqlite3.Connection, statements: Statements) -> None:
    conn.execute("BEGIN")
    for sql, params in statements:
        conn.execute(sql, params).fetchall()
    conn.execute("COMMIT")


@dataclass
class Timed:
    domain_ms: list[float]
    floor_ms: list[float]


def measure(crm: Any, conn: sqlite3.Connection, call: Callable[[Any], Any],
            inputs: Sequence[Any], warmup: int = 20) -> Timed:
    """Time `call(input)` through the domain, then the same statements raw."""
    for value in inputs[:warmup]:
        call(value)
    with capture(crm.db.read_engine) as calls:
        for value in inputs:
            calls.append([])
            call(value)
    statements = list(calls)
    domain = []
    for value in inputs:
        t0 = time.perf_counter()
        call(value)
        domain.append((time.perf_counter() - t0) * 1000)
    floor = []
    for stmts in statements:
        t0 = time.perf_counter()
        replay(conn, stmts)
        floor.append((time.perf_counter() - t0) * 1000)
    return Timed(domain, floor)


def figures_for(name: str, timed: Timed) -> list[Figure]:
    out = []
    for q in (50, 95):
        value = percentile(timed.domain_ms, q)
        floor = percentile(timed.floor_ms, q)
        out.append(Figure(f"{name}.p{q}", value, "ms", floor,
                          target=f"<= {TARGET_MS:g}" if q == 95 else "",
                          met=(value <= TARGET_MS) if q == 95 else None))
    return out


# -- who searches, and for what --------------------------------------------------------


def bench_actors(crm: Any, conn: sqlite3.Connection) -> dict[str, Any]:
    """An RM with a median-sized book, the head of her branch, and the whole-bank
    searchers (compliance, risk), whose search walks one index across every branch."""
    from sqlalchemy import select

    from crm_tui.domain.admin.auth import actor_of
    from crm_tui.store.models import Staff

    books = conn.execute(
        "SELECT rm_id, count(*) FROM customer GROUP BY rm_id ORDER BY 2, 1").fetchall()
    rm_id = books[len(books) // 2][0]
    with crm.db.read() as s:
        rm = s.get(Staff, rm_id)
        bh = s.scalars(select(Staff).where(Staff.role == "branch_head",
                                           Staff.branch_id == rm.branch_id)).first()
        out = {"rm": actor_of(rm), "branch_head": actor_of(bh)}
        for role in ("compliance", "risk"):
            whole = s.scalars(select(Staff).where(Staff.role == role)).first()
            if whole is not None:
                out[role] = actor_of(whole)
        return out


def _scope_sql(actor: Any) -> tuple[str, tuple[Any, ...]]:
    if actor.role == "rm":
        return "rm_id = ?", (actor.id,)
    if actor.role in ("compliance", "risk"):
        return "1 = 1", ()
    return "branch_id = ?", (actor.branch_id,)


def search_inputs(crm: Any, conn: sqlite3.Connection, actor: Any, n: int,
                  rng: random.Random) -> dict[str, list[str]]:
    """What people type: mostly customers of their own book, some from elsewhere (misses)."""
    where, params = _scope_sql(actor)
    cols = "name, name_initials, phone_enc, national_id_enc, name_pinyin"
    mine = conn.execute(
        f"SELECT {cols} FROM customer WHERE {where} AND kind = 'individual' "
        f"ORDER BY random() LIMIT ?", (*params, n)).fetchall()
    top = conn.execute("SELECT max(id) FROM customer").fetchone()[0]
    ids = [rng.randint(1, top) for _ in range(n // 5)]
    others = conn.execute(
        f"SELECT {cols} FROM customer WHERE kind = 'individual' AND id IN "
        f"({', '.join('?' * len(ids))})", ids).fetchall()
    rows = [r for r in mine if rng.random() < 0.85] + others
    rng.shuffle(rows)
    rows = (rows * (n // max(1, len(rows)) + 1))[:n]
    keys = crm.keys
    return {
        "name_prefix": [r[0][:2] for r in rows],
        "pinyin_initials": [r[1] for r in rows],
        "full_pinyin": [r[4] for r in rows],
        "one_letter": [r[1][:1] for r in rows],  # the first key typed: the broadest rank
        "phone_last4": [keys.decrypt("phone", r[2])[-4:] for r in rows],
        "national_id": [keys.decrypt("national_id", r[3]) for r in rows],
    }


def profile_inputs(conn: sqlite3.Connection, actor: Any, n: int) -> list[int]:
    where, params = _scope_sql(actor)
    ids = [r[0] for r in conn.execute(
        f"SELECT id FROM customer WHERE {where} ORDER BY random() LIMIT ?", (*params, n))]
    return (ids * (n // max(1, len(ids)) + 1))[:n]


def run_search(crm: Any, conn: sqlite3.Connection, actors: dict[str, Any], n: int,
               rng: random.Random) -> list[Figure]:
    from crm_tui.domain.customers.search import search_customers

    out: list[Figure] = []
    for label, actor in actors.items():
        inputs = search_inputs(crm, conn, actor, n, rng)
        for kind in SEARCH_KINDS:
            timed = measure(crm, conn, lambda q, a=actor: search_customers(crm, a, q), inputs[kind])
            out += figures_for(f"search.{kind}.{label}", timed)
    return out


def run_profile(crm: Any, conn: sqlite3.Connection, actors: dict[str, Any], n: int) -> list[Figure]:
    from crm_tui.domain.customers.profile import get_profile

    out: list[Figure] = []
    for label, actor in actors.items():
        ids = profile_inputs(conn, actor, n)
        timed = measure(crm, conn, lambda cid, a=actor: get_profile(crm, a, cid), ids)
        out += figures_for(f"profile.{label}", timed)
    return out

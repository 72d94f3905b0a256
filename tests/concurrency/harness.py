"""N worker processes doing interleaved work on one store, and the checks on what they did.


A scenario says how to set up, what each worker does (`plan`), how one operation runs in a
worker (`run`, which returns an outcome: "ack" with what was stored, "conflict" with the
message the user would see, "refused" with a rule's key), and what must hold afterwards
(`check`). Anything else a worker meets (a traceback, "database is locked") is an "error"
and fails the run. Workers are started with `forkserver` (preloaded) and wait at a barrier, so they really
overlap. New areas (leads, tickets) plug in by adding a scenario to SCENARIOS.
"""

from __future__ import annotations

import multiprocessing
import random
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.settings import Settings
from crm_tui.store.crypto import Keyring
from crm_tui.store.db import Database

Op = dict[str, Any]


@dataclass
class Outcome:
    worker: int
    op: Op
    kind: str  # ack | conflict | refused | error
    detail: Any = None
    seconds: float = 0.0


class Scenario(Protocol):
    name: str

    def setup(self, crm: Crm, actors: dict[str, Actor], size: int) -> dict[str, Any]: ...
    def plan(self, state: dict[str, Any], workers: int, rounds: int,
             rng: random.Random) -> list[list[Op]]: ...
    def run(self, crm: Crm, actors: dict[str, Actor], op: Op) -> Outcome: ...
    def check(self, crm: Crm, state: dict[str, Any], outcomes: list[Outcome]) -> list[str]: ...


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, kind: str) -> int:
        return sum(o.kind == kind for o in self.outcomes)


def _open(url: str, keys: Keyring) -> Crm:
    return Crm(Database(url), keys, Settings(database_url=url))


def _worker(index: int, url: str, keys: Keyring, actors: dict[str, Actor], names: list[str],
            ops: list[Op], barrier: Any, out: Any) -> None:
    from crm_tui import i18n
    from tests.concurrency.scenarios import SCENARIOS

    i18n.set_language("en")
    crm = _open(url, keys)
    by_name = {s.name: s for s in SCENARIOS if s.name in names}
    results: list[Outcome] = []
    barrier.wait()
    for op in ops:
        start = time.perf_counter()
        try:
            outcome = by_name[op["scenario"]].run(crm, actors, op)
        except Exception:  # noqa: BLE001 - the harness reports it; the check fails on it
            outcome = Outcome(index, op, "error", traceback.format_exc(limit=4))
        outcome.worker = index
        outcome.seconds = time.perf_counter() - start
        results.append(outcome)
    crm.db.dispose()
    out.put(results)


def run(crm: Crm, actors: dict[str, Actor], scenarios: list[Scenario], *, workers: int = 4,
        rounds: int = 10, size: int = 3, seed: int = 11) -> Report:
    """Set each scenario up, run all plans interleaved in `workers` processes, check."""
    rng = random.Random(seed)
    states = {s.name: s.setup(crm, actors, size) for s in scenarios}
    plans: list[list[Op]] = [[] for _ in range(workers)]
    for s in scenarios:
        for w, ops in enumerate(s.plan(states[s.name], workers, rounds, rng)):
            plans[w].extend({**op, "scenario": s.name} for op in ops)
    for ops in plans:
        rng.shuffle(ops)  # scenarios interleave inside each worker too
    ctx = multiprocessing.get_context("forkserver")  # clean processes, not forks of pytest
    ctx.set_forkserver_preload(["tests.concurrency.scenarios"])
    barrier = ctx.Barrier(workers)
    queue = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(i, crm.db.url, crm.keys, actors,
                                                [s.name for s in scenarios], plans[i],
                                                barrier, queue))
             for i in range(workers)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    report = Report()
    for _ in procs:
        report.outcomes.extend(queue.get(timeout=600))
    for p in procs:
        p.join(timeout=60)
    report.seconds = time.perf_counter() - started
    report.problems += [f"worker error in {o.op}: {o.detail}" for o in report.outcomes
                        if o.kind == "error"]
    for s in scenarios:
        mine = [o for o in report.outcomes if o.op["scenario"] == s.name]
        report.problems += s.check(crm, states[s.name], mine)
    return report


Runner = Callable[..., Report]

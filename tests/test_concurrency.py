"""Many workers on one store, SQLite and PostgreSQL: no lost update, every conflict reported
with who and when, one approval per level however the checkers race, and no unhandled
"database is locked". The short version runs here (seconds); `python -m bench concurrency`
runs a longer one."""

from __future__ import annotations

from tests.concurrency import harness
from tests.concurrency.scenarios import SCENARIOS


def test_interleaved_edits_and_approval_races(crm, world) -> None:
    report = harness.run(crm, world.actors, SCENARIOS, workers=4, rounds=12, size=3)
    assert report.problems == []
    assert report.count("error") == 0
    edits = [o for o in report.outcomes if o.op["scenario"] == "customer_edits"]
    assert sum(o.kind == "ack" for o in edits) >= 3  # work got done
    assert sum(o.kind == "conflict" for o in edits) >= 1  # and the race was real
    approvals = [o for o in report.outcomes if o.op.get("op") == "approve"]
    assert sum(o.kind == "ack" for o in approvals) <= 3

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


def test_a_conflict_names_who_changed_the_record_and_when(crm, world) -> None:
    import pytest

    from crm_tui.domain.customers import records
    from crm_tui.domain.kernel.errors import Conflict
    from tests.helpers import make_customer

    cid = make_customer(crm, world["rm1"], "冲突测试")
    records.update_customer(crm, world["sup1"], cid, 1, {"occupation": "教师"})
    with pytest.raises(Conflict) as err:
        records.update_customer(crm, world["rm1"], cid, 1, {"occupation": "医生"})
    assert err.value.message.startswith("Changed by 陈静 (sup1) at 20")
    assert "reload" in err.value.message


def test_retry_transaction_reruns_serialization_failures_and_deadlocks_a_bounded_time() -> None:
    import pytest
    from sqlalchemy.exc import OperationalError

    from crm_tui.store import db as store_db

    class PgError(Exception):
        def __init__(self, sqlstate: str) -> None:
            self.sqlstate = sqlstate

    calls: list[int] = []

    @store_db.retry_transaction
    def flaky(fail: int, state: str) -> str:
        calls.append(1)
        if len(calls) <= fail:
            raise OperationalError("UPDATE …", {}, PgError(state))
        return "done"

    assert flaky(2, "40P01") == "done" and len(calls) == 3  # deadlock, deadlock, success
    calls.clear()
    with pytest.raises(OperationalError):  # never more than RETRY_ATTEMPTS
        flaky(99, "40001")
    assert len(calls) == store_db.RETRY_ATTEMPTS
    calls.clear()
    with pytest.raises(OperationalError):  # anything else is not retried
        flaky(1, "23505")
    assert len(calls) == 1

    class SqliteBusy(Exception):
        sqlite_errorcode = 5  # "database is locked" past the busy timeout
        sqlstate = None

    calls.clear()

    @store_db.retry_transaction
    def busy_once() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("BEGIN IMMEDIATE", {}, SqliteBusy())
        return "done"

    assert busy_once() == "done" and len(calls) == 2


def test_supervisors_racing_on_the_same_leads_lose_nothing_and_convert_once(crm, world) -> None:
    from tests.concurrency.leads import LeadRace

    report = harness.run(crm, world.actors, [LeadRace()], workers=4, rounds=12, size=3, seed=5)
    assert report.problems == []
    assert report.count("error") == 0
    kinds = {(o.op["op"], o.kind) for o in report.outcomes}
    assert {("reassign", "ack"), ("contact", "ack"), ("convert", "ack")} <= kinds
    closed = [o for o in report.outcomes if o.detail == "sales.error.lead_closed"]
    assert closed  # commands that came after a conversion were told, not applied

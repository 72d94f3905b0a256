"""`crm audit verify` catches edits, deletions, reordering and a cut tail; `crm audit log` reads it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_support import add_org, copy_db, crm_cli, init_db, sql

COLUMNS = "at, actor_id, actor_name, action, entity, entity_id, before, after, prev_hash, hash"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = init_db(tmp_path_factory.mktemp("audit") / "crm.db")
    add_org(path)  # a dozen events: branches, teams, staff
    return path


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    return copy_db(template, tmp_path)


def ids(db: Path) -> list[int]:
    return [i for (i,) in sql(db, "SELECT id FROM audit_event ORDER BY id")]


def verify(db: Path) -> tuple[int, str]:
    r = crm_cli("audit", "verify", "--db", str(db))
    return r.code, r.out + r.err


def test_intact_log_verifies(db: Path) -> None:
    code, text = verify(db)
    assert code == 0
    assert f"{len(ids(db))} events checked" in text


def test_an_edited_event_is_named(db: Path) -> None:
    target = ids(db)[4]
    sql(db, "UPDATE audit_event SET after = replace(after, '\"', '''') WHERE id = ?", (target,))
    assert sql(db, "SELECT after FROM audit_event WHERE id = ?", (target,))[0][0].count("'") > 0
    code, text = verify(db)
    assert code == 1
    assert f"BROKEN at event {target}" in text and "edited" in text


def test_a_deleted_event_is_named_by_its_successor(db: Path) -> None:
    all_ids = ids(db)
    sql(db, "DELETE FROM audit_event WHERE id = ?", (all_ids[3],))
    code, text = verify(db)
    assert code == 1
    assert f"BROKEN at event {all_ids[4]}" in text and "deleted or reordered" in text


def test_swapped_events_are_caught(db: Path) -> None:
    a, b = ids(db)[2], ids(db)[5]
    row_a = sql(db, f"SELECT {COLUMNS} FROM audit_event WHERE id = ?", (a,))[0]
    row_b = sql(db, f"SELECT {COLUMNS} FROM audit_event WHERE id = ?", (b,))[0]
    sets = ", ".join(f"{c.strip()} = ?" for c in COLUMNS.split(","))
    sql(db, f"UPDATE audit_event SET {sets} WHERE id = ?", (*row_b, a))
    sql(db, f"UPDATE audit_event SET {sets} WHERE id = ?", (*row_a, b))
    code, text = verify(db)
    assert code == 1
    assert f"BROKEN at event {a}" in text


def test_a_truncated_tail_is_caught(db: Path) -> None:
    last = ids(db)[-1]
    sql(db, "DELETE FROM audit_event WHERE id = ?", (last,))
    code, text = verify(db)
    assert code == 1
    assert f"BROKEN at event {last}" in text and "removed from the end" in text


def test_audit_log_filters_json_and_local_time(db: Path) -> None:
    rm1 = sql(db, "SELECT id FROM staff WHERE username = 'rm1'")[0][0]
    r = crm_cli("audit", "log", "--entity", "staff", "--id", str(rm1), "--json", "--db", str(db))
    assert r.code == 0, r.err
    events = json.loads(r.out)
    assert [e["action"] for e in events] == ["staff.add"]
    assert events[0]["at"].endswith("+08:00")  # shown in Asia/Shanghai
    assert json.loads(events[0]["after"])["username"] == "rm1"

    r = crm_cli("audit", "log", "--action", "branch.add", "--limit", "1", "--db", str(db))
    lines = r.out.strip().splitlines()
    assert len(lines) == 1 and "branch.add" in lines[0] and "SH01" in lines[0]
    assert "no audit events match" in crm_cli("audit", "log", "--actor", "nobody", "--db", str(db)).out
    assert crm_cli("audit", "log", "--db", str(db)).out.count("\n") == len(ids(db))

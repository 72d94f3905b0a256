"""`crm import events`, `crm alerts list|clear`, `crm jobs run`, and `crm policy apply`
opening a request that compliance must approve."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from crm_tui.domain.admin.auth import login
from crm_tui.domain.compliance import approvals
from crm_tui.domain.compliance.sensitive_changes import request_change
from crm_tui.store.models import Customer
from crm_tui.store.types import utcnow
from tests.cli_support import (
    STAFF_PASSWORD,
    add_org,
    add_user_approved,
    copy_db,
    crm_cli,
    init_db,
    open_db,
    sql,
)

HEADER = "event_id,type,customer_id,occurred_at,success,region,tx_kind,amount,currency\n"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = init_db(tmp_path_factory.mktemp("template") / "crm.db")
    add_org(path)
    crm = open_db(path)
    try:
        add_user_approved(crm, "risk1", "何军", "risk", STAFF_PASSWORD)
        with crm.db.write() as s:
            s.add(Customer(name="张三", rm_id=None, branch_id=1))
    finally:
        crm.db.dispose()
    return path


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    return copy_db(template, tmp_path)


def _burst(tmp_path: Path) -> Path:
    feed = tmp_path / "feed.csv"
    feed.write_text(HEADER + "".join(
        f"X{i},transaction,1,2026-03-0{i + 1}T10:00:00,,,cross_border,200000,CNY\n"
        for i in range(3)) + "X9,transaction,77,2026-03-01T10:00:00,,,transfer,5,CNY\n",
        encoding="utf-8")
    return feed


def test_import_events_reports_bad_lines_and_raises_alert(db: Path, tmp_path: Path) -> None:
    feed = _burst(tmp_path)
    r = crm_cli("import", "events", str(feed), "--db", str(db))
    assert r.code == 1
    assert r.err.strip().splitlines() == ["line 5: customer_id: no customer 77"]
    assert "3 events stored" in r.out and "1 alerts raised" in r.out
    again = crm_cli("import", "events", str(feed), "--db", str(db))
    assert "0 events stored, 3 already known, 0 alerts raised" in again.out
    assert sql(db, "SELECT count(*) FROM risk_alert") == [(1,)]
    listed = json.loads(crm_cli("alerts", "list", "--json", "--db", str(db)).out)
    assert [(a["kind"], a["severity"], a["freeze"], a["customer_id"]) for a in listed] == [
        ("cross_border", "high", True, 1)]
    table = crm_cli("alerts", "list", "--db", str(db))
    assert table.code == 0 and "cross-border burst" in table.out


def test_clear_needs_a_risk_officer_password_and_reason(db: Path, tmp_path: Path) -> None:
    crm_cli("import", "events", str(_burst(tmp_path)), "--db", str(db))
    (alert_id,) = sql(db, "SELECT id FROM risk_alert")[0]
    wrong = crm_cli("alerts", "clear", str(alert_id), "--reason", "已核实", "--as", "risk1",
                    "--password-stdin", "--db", str(db), input="nope-nope\n")
    assert wrong.code == 1 and "password" in wrong.err.lower()
    not_risk = crm_cli("alerts", "clear", str(alert_id), "--reason", "已核实", "--as", "comp1",
                       "--password-stdin", "--db", str(db), input=STAFF_PASSWORD + "\n")
    assert not_risk.code == 1 and "cannot clear risk alerts" in not_risk.err  # in words (issue 8)
    ok = crm_cli("alerts", "clear", str(alert_id), "--reason", "已电话核实", "--as", "risk1",
                 "--password-stdin", "--db", str(db), input=STAFF_PASSWORD + "\n")
    assert ok.code == 0, ok.err
    assert sql(db, "SELECT status, clear_reason FROM risk_alert") == [("cleared", "已电话核实")]
    assert crm_cli("alerts", "list", "--json", "--db", str(db)).out.strip() == "[]"


def test_jobs_run_expires_due_requests(db: Path) -> None:
    crm = open_db(db)
    try:
        with crm.db.write() as s:
            c = s.get(Customer, 1)
            c.rm_id = 2  # rm1
            s.add(c)
        rm1 = login(crm, "rm1", STAFF_PASSWORD)
        request_change(crm, rm1, 1, "phone", "13912345678", now=utcnow() - timedelta(days=10), reason="来电")
    finally:
        crm.db.dispose()
    r = crm_cli("jobs", "run", "--db", str(db))
    assert r.code == 0 and "Expired 1 approval" in r.out
    assert sql(db, "SELECT status FROM approval_request WHERE kind <> 'staff_grant'") == [
        ("expired",)]  # (risk1's account grant, approved in set-up, is the other request)


def test_policy_apply_creates_a_request_for_compliance(db: Path, tmp_path: Path) -> None:
    shown = crm_cli("policy", "show", "--db", str(db)).out
    new = tmp_path / "new.toml"
    new.write_text(shown.replace("request_expiry_hours = 72", "request_expiry_hours = 24"),
                   encoding="utf-8")
    r = crm_cli("policy", "apply", str(new), "--db", str(db))
    assert r.code == 0 and "compliance" in r.out
    assert "request_expiry_hours = 72" in crm_cli("policy", "show", "--db", str(db)).out
    (rid,) = sql(db, "SELECT id FROM approval_request WHERE kind='policy_change'")[0]
    crm = open_db(db)
    try:
        approvals.approve(crm, login(crm, "comp1", STAFF_PASSWORD), rid, "已复核")
    finally:
        crm.db.dispose()
    assert "request_expiry_hours = 24" in crm_cli("policy", "show", "--db", str(db)).out

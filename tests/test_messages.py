"""Messages as keys: the domain says key + params; the screen and the CLI translate, in
their own language, and `--json` carries the codes."""

from __future__ import annotations

import json
from pathlib import Path

from crm_tui.domain.compliance.alerts import _details
from crm_tui.domain.kernel.messages import Join, Msg, from_stored, label, stored
from crm_tui.domain.sales.transactions import TransactionOutcome
from crm_tui.i18n import render, set_language
from tests.cli_support import add_org, crm_cli, init_db, open_db
from tests.test_alerts_cli import _burst


def test_one_message_in_two_languages() -> None:
    outcome = TransactionOutcome("pending_approval", "transfer", 0, "CNY", request_id=9,  # type: ignore[arg-type]
                                 levels=("supervisor", "compliance"))
    try:
        set_language("en")
        assert render(outcome.note).startswith("Sent for approval as request #9: Supervisor → Compliance.")
        set_language("zh_CN")
        assert "#9" in render(outcome.note) and "主管 → 合规" in render(outcome.note)
    finally:
        set_language(None)
    assert outcome.note.as_json() == {"key": "compliance.tx.pending",
                                      "params": {"id": 9, "chain": [
                                          {"key": "role.supervisor", "params": {}},
                                          {"key": "role.compliance", "params": {}}]}}


def test_alert_details_format_days_and_money() -> None:
    details = _details("cross_border", {"count": 3, "total": "540000.00", "window_days": 7.0,
                                        "event": "id:X1"})
    try:
        set_language("zh_CN")
        assert render(details) == "7 天内跨境转账 3 笔，合计 ¥540,000.00"
        set_language("en")
        assert render(details) == "3 cross-border transfers totalling ¥540,000.00 within 7 days"
    finally:
        set_language(None)


def test_stored_messages_translate_when_read() -> None:
    m = Msg("compliance.suitability.needs_approval",
            {"level": "C1", "risk": "R2", "role": label("role", "compliance")})
    assert stored(m) == ["compliance.suitability.needs_approval",
                         {"level": "C1", "risk": "R2", "role": "@role.compliance"}]
    assert from_stored(stored(m)) == m
    assert render(Msg("x.unknown", {"a": Join((label("role", "rm"),))})) == "x.unknown"


def test_alerts_list_json_carries_the_codes(tmp_path: Path) -> None:
    db = init_db(tmp_path / "crm.db")
    add_org(db)
    crm = open_db(db)
    try:
        from crm_tui.store.models import Customer

        with crm.db.write() as s:
            s.add(Customer(name="张三", rm_id=None, branch_id=1))
    finally:
        crm.db.dispose()
    crm_cli("import", "events", str(_burst(tmp_path)), "--db", str(db))
    listed = json.loads(crm_cli("alerts", "list", "--json", "--db", str(db)).out)
    assert [(a["details_key"], a["details_params"]) for a in listed] == [
        ("compliance.alert_details.cross_border",
         {"count": 3, "total": "600000.00", "window_days": 7, "event": "id:X2"})]
    assert "600,000.00" in listed[0]["details"] and "7.0" not in listed[0]["details"]


def test_a_refusal_under_json_is_a_code_on_stderr(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    r = crm_cli("alerts", "list", "--json", "--db", str(missing))
    assert r.code == 1 and r.out == ""
    error = json.loads(r.err)["error"]
    assert error["key"] == "cli.error.no_database" and error["params"] == {"path": str(missing)}
    assert str(missing) in error["message"] and error["exit_code"] == 1
    plain = crm_cli("alerts", "list", "--db", str(missing))
    assert plain.code == 1 and not plain.err.lstrip().startswith("{")

"""Risk alerts from the core-banking feed: rules, freeze, clearing, idempotent replay and
line-numbered errors with the rest of the feed processed."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from crm_tui.domain.compliance.alerts import clear_alert, list_alerts
from crm_tui.domain.compliance.event_feed import import_events
from crm_tui.domain.kernel.errors import Blocked, PermissionDenied, ValidationFailed
from crm_tui.domain.sales.transactions import record_transaction
from crm_tui.i18n import render
from crm_tui.store.models_compliance import CoreEvent, RiskAlert
from tests.compliance_world import build_book

HEADER = "event_id,type,customer_id,occurred_at,success,region,tx_kind,amount,currency\n"


@pytest.fixture
def book(crm, world):
    return build_book(crm, world)


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _count(crm, model) -> int:
    with crm.db.read() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_failed_logins_raise_one_alert_without_freeze(crm, world, book, tmp_path):
    cid = book.customers["c1"]
    lines = [f"L{i},login,{cid},2026-03-01T09:0{i}:00,false,北京,,," for i in range(6)]
    path = _write(tmp_path, "feed.csv", HEADER + "\n".join(lines) + "\n")
    report = import_events(crm, world["admin"], path)
    assert report.ok and report.stored == 6 and len(report.alerts) == 1
    alerts = list_alerts(crm, world["risk1"])
    assert alerts[0].kind == "failed_logins" and not alerts[0].freeze
    assert alerts[0].customer_name == "张三"
    assert "5 failed logins within 10 minutes" in render(alerts[0].details)
    # not frozen: a transaction still goes through
    assert record_transaction(crm, world["rm1"], cid, "transfer", "100").status == "executed"


def test_four_failures_or_spread_out_raise_nothing(crm, world, book, tmp_path):
    cid = book.customers["c1"]
    lines = [f"S{i},login,{cid},2026-03-01T0{i}:00:00,false,北京,,," for i in range(6)]
    report = import_events(crm, world["admin"], _write(tmp_path, "f.csv", HEADER + "\n".join(lines)))
    assert report.stored == 6 and report.alerts == ()


def test_new_region_login(crm, world, book, tmp_path):
    cid = book.customers["c1"]
    recs = [{"event_id": "R1", "type": "login", "customer_id": cid,
             "occurred_at": "2026-03-01T09:00:00", "success": True, "region": "北京"},
            {"event_id": "R2", "type": "login", "customer_id": cid,
             "occurred_at": "2026-03-02T09:00:00", "success": True, "region": "北京"},
            {"event_id": "R3", "type": "login", "customer_id": cid,
             "occurred_at": "2026-03-03T09:00:00", "success": True, "region": "境外-曼谷"}]
    path = _write(tmp_path, "f.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in recs))
    report = import_events(crm, world["admin"], path)
    assert len(report.alerts) == 1
    assert "境外-曼谷" in render(list_alerts(crm, world["comp1"])[0].details)


def test_cross_border_burst_freezes_until_risk_clears(crm, world, book, tmp_path):
    cid = book.customers["c1"]
    lines = [f"X1,transaction,{cid},2026-03-01T10:00:00,,,cross_border,\"200,000\",CNY",
             f"X2,transaction,{cid},2026-03-03T10:00:00,,,cross_border,150000,CNY",
             f"X3,transaction,{cid},2026-03-06T10:00:00,,,cross_border,150000.00,CNY"]
    path = _write(tmp_path, "x.csv", HEADER + "\n".join(lines) + "\n")
    report = import_events(crm, world["admin"], path)
    assert len(report.alerts) == 1
    alert = list_alerts(crm, world["risk1"])[0]
    assert alert.severity == "high" and alert.freeze
    with pytest.raises(Blocked) as err:
        record_transaction(crm, world["rm1"], cid, "transfer", "100")
    assert f"#{alert.id}" in err.value.message
    # replay: no duplicate events, no duplicate alert
    again = import_events(crm, world["admin"], path)
    assert again.stored == 0 and again.duplicates == 3 and again.alerts == ()
    assert _count(crm, RiskAlert) == 1
    # only risk clears, and only with a reason
    with pytest.raises(PermissionDenied):
        clear_alert(crm, world["comp1"], alert.id, "已核实")
    with pytest.raises(ValidationFailed):
        clear_alert(crm, world["risk1"], alert.id, " ")
    clear_alert(crm, world["risk1"], alert.id, "已电话核实为客户本人留学缴费")
    cleared = list_alerts(crm, world["risk1"], status=None)[0]
    assert cleared.status == "cleared" and cleared.cleared_by == "何军"
    assert record_transaction(crm, world["rm1"], cid, "transfer", "100").status == "executed"


def test_window_and_total_thresholds(crm, world, book, tmp_path):
    cid = book.customers["c1"]
    lines = [f"W1,transaction,{cid},2026-03-01T10:00:00,,,cross_border,300000,CNY",
             f"W2,transaction,{cid},2026-03-05T10:00:00,,,cross_border,300000,CNY",
             f"W3,transaction,{cid},2026-03-09T10:00:00,,,cross_border,300000,CNY",  # > 7 days
             f"W4,transaction,{cid},2026-03-09T11:00:00,,,cross_border,1,CNY"]  # 3 in 7 days
    report = import_events(crm, world["admin"], _write(tmp_path, "w.csv", HEADER + "\n".join(lines)))
    assert report.stored == 4 and len(report.alerts) == 1  # W2+W3+W4 = 600,000.01 in 7 days
    with crm.db.read() as s:
        assert s.scalars(select(RiskAlert.details)).one()["event"] == "id:W4"


def test_bad_lines_reported_by_number_rest_processed(crm, world, book, tmp_path):
    cid = book.customers["c1"]
    text = HEADER + "\n".join([
        f"B1,login,{cid},2026-03-01T09:00:00,true,北京,,,",          # line 2 ok
        "B2,login,999999,2026-03-01T09:00:00,true,北京,,,",          # line 3 unknown customer
        f"B3,transaction,{cid},2026-03-01T09:00:00,,,transfer,-5,CNY",  # line 4 negative
        f"B4,login,{cid},yesterday,true,北京,,,",                     # line 5 bad time
        f"B5,login,{cid}",                                            # line 6 malformed
        f"B6,transaction,{cid},2026-03-01T10:00:00,,,transfer,10,CNY",  # line 7 ok
    ]) + "\n"
    report = import_events(crm, world["admin"], _write(tmp_path, "bad.csv", text))
    assert report.stored == 2
    assert [e.line for e in report.errors] == [3, 4, 5, 6]
    msgs = [render(e.note) for e in report.errors]
    assert msgs[0] == "line 3: customer_id: no customer 999999"
    assert msgs[1].startswith("line 4: amount:") and "negative" in msgs[1]
    assert msgs[2].startswith("line 5: occurred_at:")
    assert _count(crm, CoreEvent) == 2


def test_bad_json_line(crm, world, book, tmp_path):
    cid = book.customers["c1"]
    good = json.dumps({"event_id": "J1", "type": "login", "customer_id": cid,
                       "occurred_at": "2026-03-01T09:00:00+08:00"})
    report = import_events(crm, world["admin"], _write(tmp_path, "j.jsonl",
                                                          good + "\n{broken\n[1]\n"))
    assert report.stored == 1 and [e.line for e in report.errors] == [2, 3]


def test_only_admin_imports_and_views_hide_names(crm, world, book, tmp_path):
    path = _write(tmp_path, "e.csv", HEADER)
    with pytest.raises(PermissionDenied):
        import_events(crm, world["rm1"], path)
    with pytest.raises(PermissionDenied):
        list_alerts(crm, world["rm1"])
    cid = book.customers["c1"]
    lines = [f"N{i},login,{cid},2026-03-01T09:0{i}:00,false,,,," for i in range(5)]
    import_events(crm, world["admin"], _write(tmp_path, "n.csv", HEADER + "\n".join(lines)))
    assert list_alerts(crm, world["admin"])[0].customer_name == ""

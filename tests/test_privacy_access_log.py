"""The access log: one row per profile view, search page, list and export, naming who, which
customers (or how many), and the terminal or SSH peer; the bulk-viewing alert over it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from crm_tui.domain.compliance.alerts import list_alerts
from crm_tui.domain.customers import search
from crm_tui.domain.customers.profile import get_profile
from crm_tui.domain.data_io.exporter import export_customers
from crm_tui.domain.kernel import access_log
from crm_tui.domain.kernel.errors import PermissionDenied
from crm_tui.domain.privacy import privacy_jobs, requests
from crm_tui.i18n import render
from crm_tui.store.models import Customer
from crm_tui.store.models_compliance import RiskAlert
from crm_tui.store.models_privacy import AccessLog
from crm_tui.store.types import utcnow
from tests.helpers import make_customer


def _rows(crm) -> list[AccessLog]:
    with crm.db.read() as s:
        return list(s.scalars(select(AccessLog).order_by(AccessLog.id)).all())


def test_every_view_list_and_export_is_logged(crm, world, tmp_path, monkeypatch) -> None:
    rm1, bh1, comp, admin = world["rm1"], world["bh1"], world["comp1"], world["admin"]
    a = make_customer(crm, rm1, "张三")
    b = make_customer(crm, rm1, "张三丰")
    monkeypatch.setenv(access_log.SSH_PEER_ENV, "10.2.3.4:52814")
    get_profile(crm, rm1, a)
    found = search.search_customers(crm, rm1, "张三")
    assert len(found) == 2
    search.search_customers(crm, rm1, "无此人")  # nothing shown, nothing logged
    monkeypatch.delenv(access_log.SSH_PEER_ENV)
    export_customers(crm, bh1, tmp_path / "book.csv")
    requests.open_request(crm, rm1, b, "access")
    requests.list_requests(crm, comp)
    rows = _rows(crm)
    assert [(r.action, r.staff_name) for r in rows] == [
        ("profile", "rm1"), ("search", "rm1"), ("export", "bh1"), ("list", "comp1")]
    profile, page, export, listing = rows
    assert profile.customer_id == a and profile.count == 1
    assert profile.terminal == "ssh:10.2.3.4:52814" and page.terminal.startswith("ssh:")
    assert page.count == 2 and page.ids in (f",{a},{b},", f",{b},{a},")
    assert export.count == 2 and export.customer_id is None
    assert listing.ids == f",{b},"
    # compliance's questions
    about_a = access_log.access_entries(crm.db, comp, customer_id=a)
    assert [e.action for e in about_a] == ["search", "profile"]  # newest first
    by_rm1 = access_log.access_entries(crm.db, admin, staff="rm1",
                                       since=utcnow() - timedelta(hours=1))
    assert {e.action for e in by_rm1} == {"profile", "search"}
    assert access_log.access_entries(crm.db, comp, staff="rm1",
                                     since=utcnow() + timedelta(hours=1)) == []
    with pytest.raises(PermissionDenied):
        access_log.access_entries(crm.db, rm1, customer_id=a)


def test_bulk_viewing_raises_one_alert_per_day(crm, world) -> None:
    rm1, rm2 = world["rm1"], world["rm2"]
    ids = [make_customer(crm, rm1, "客户" + "甲乙丙丁"[i]) for i in range(4)]
    now = utcnow()
    with crm.db.write() as s:  # the policy's threshold is 200 distinct profiles a day
        s.execute(insert(AccessLog), [
            {"at": now - timedelta(minutes=1), "staff_id": rm1.id, "staff_name": "rm1",
             "action": "profile", "customer_id": ids[i % 4] if i < 4 else None, "count": 1,
             "ids": "", "terminal": ""} for i in range(4)])
    get_profile(crm, rm2, make_customer(crm, rm2, "李四"))
    assert privacy_jobs.bulk_viewing(crm, utcnow()) == 0
    # 201 distinct customers opened by rm1 today
    with crm.db.write() as s:
        s.execute(insert(Customer), [{"name": f"批量{i:03d}", "branch_id": rm1.branch_id,
                                      "rm_id": rm1.id, "created_at": now, "updated_at": now}
                                     for i in range(197)])
        extra = s.scalars(select(Customer.id).where(Customer.name.like("批量%"))).all()  # type: ignore[attr-defined]
    with crm.db.write() as s:
        s.execute(insert(AccessLog), [
            {"at": utcnow(), "staff_id": rm1.id, "staff_name": "rm1", "action": "profile",
             "customer_id": cid, "count": 1, "ids": "", "terminal": "/dev/pts/3"}
            for cid in extra])
    assert privacy_jobs.bulk_viewing(crm, utcnow()) == 1
    assert privacy_jobs.bulk_viewing(crm, utcnow()) == 0  # one per person per day
    with crm.db.read() as s:
        alert = s.scalars(select(RiskAlert)).one()
        assert alert.kind == "bulk_viewing" and alert.details["staff"] == "rm1"
        assert alert.details["count"] == 201 and alert.status == "open"
        assert s.scalar(select(func.count()).select_from(RiskAlert)) == 1
    shown = list_alerts(crm, world["risk1"])
    details = render(shown[0].details)
    assert "rm1" in details and "201" in details
    with crm.db.read() as s:  # the alert list showed a customer's name: that is logged too
        listed = s.scalars(select(AccessLog).where(AccessLog.action == "list")).one()
        assert listed.staff_name == "risk1" and listed.ids == f",{alert.customer_id},"

"""The access-and-copy file: every category for that customer, nothing of another, labelled
in the customer's language, 0600, audited and in the access log."""

from __future__ import annotations

import json
import stat

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from crm_tui.domain.kernel.errors import Blocked, PermissionDenied
from crm_tui.domain.privacy import copy_file, requests
from crm_tui.store.models import AuditEvent
from crm_tui.store.models_privacy import AccessLog
from tests.privacy_support import full_customer, product, wechat_field

SECTIONS = {"profile", "kyc", "risk", "holdings", "trades", "interactions", "tags",
            "consents", "requests"}


def test_copy_holds_every_category_and_nothing_else(crm, world, tmp_path) -> None:
    rm1, comp = world["rm1"], world["comp1"]
    pid = product(crm)
    wechat_field(crm, world["admin"])
    cid = full_customer(crm, rm1, "张三丰", "CANARYA", pid, phone="13911112222")
    other = full_customer(crm, rm1, "李四光", "CANARYB", pid, phone="13933334444")
    rid = requests.open_request(crm, rm1, cid, "access", detail="要求获取个人信息副本")
    with pytest.raises(PermissionDenied):
        copy_file.make_copy(crm, rm1, cid, tmp_path / "x.json", "json")
    with pytest.raises(Blocked):  # the request is someone else's
        copy_file.make_copy(crm, comp, other, tmp_path / "x.json", "json", request_id=rid)

    report = copy_file.make_copy(crm, comp, cid, tmp_path / "copy.json", "json",
                                 request_id=rid, lang="zh_CN")
    path = report.path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    doc = json.loads(text)
    assert {s["key"] for s in doc["sections"]} >= SECTIONS
    assert all(report.counts[k] >= 1 for k in SECTIONS)
    assert "CANARYA-summary" in text and "CANARYA-kyc" in text and "13911112222" in text
    assert "稳健理财 180 天" in text and "短信营销" in text and "私行客户2222" in text
    assert "微信号" in text and "CANARYA-wx" in text  # a custom field, with its label
    assert "CANARYB" not in text and "李四光" not in text and "13933334444" not in text
    profile = next(s for s in doc["sections"] if s["key"] == "profile")
    assert {"项目": "手机号码", "内容": "13911112222"} in profile["rows"] or any(
        r.get("内容") == "13911112222" for r in profile["rows"])
    # the request can now be completed; the copy was audited against it
    requests.complete_request(crm, comp, rid, "已向客户提供副本")
    with crm.db.read() as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.copy")).one()
        assert ev.entity_id == str(rid)
        logged = s.scalars(select(AccessLog).where(AccessLog.action == "copy")).one()
        assert logged.customer_id == cid and logged.staff_name == "comp1"
    with pytest.raises(Blocked):  # never over an existing file
        copy_file.make_copy(crm, comp, cid, path, "json")

    xlsx = copy_file.make_copy(crm, comp, cid, tmp_path / "copy.xlsx", "xlsx", lang="en").path
    assert stat.S_IMODE(xlsx.stat().st_mode) == 0o600
    wb = load_workbook(xlsx, read_only=True)
    assert {"Profile", "KYC documents", "Risk assessments", "Holdings", "Trades",
            "Interactions", "Tags", "Consents", "Rights requests"} <= set(wb.sheetnames)
    cells = [str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True)
             for c in row if c is not None]
    assert "CANARYA-subject" in cells and "Marketing by SMS" in cells
    assert not any("CANARYB" in c for c in cells)
    assert not list(tmp_path.glob(".*partial"))

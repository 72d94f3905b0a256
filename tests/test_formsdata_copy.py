"""The privacy copy file carries the subject's leads, opportunities and tickets with their
custom values by label: retired fields when they hold a value, sensitive ones in plain text
(the customer's own data, as the profile's), never ciphertext, nothing of another person."""

from __future__ import annotations

import json

from openpyxl import load_workbook
from sqlalchemy import select, update

from crm_tui.domain.forms import definitions as D
from crm_tui.domain.forms.values import stored_for_new
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.privacy import copy_file
from crm_tui.domain.sales import leads, opportunities
from crm_tui.domain.service import tickets
from crm_tui.i18n import catalog
from crm_tui.store.models_sales import Lead, Opportunity
from crm_tui.store.models_service import Ticket
from tests.helpers import new_id
from tests.privacy_support import full_customer, product, wechat_field

ADMIN = system_actor("test")


def _fields(crm, entity: str) -> None:
    D.add_field(crm, ADMIN, entity, "campaign", label_zh=f"{entity}活动代码",
                label_en=f"{entity} campaign")
    D.add_field(crm, ADMIN, entity, "card", label_zh=f"{entity}卡号", label_en=f"{entity} card",
                sensitive=True)
    D.add_field(crm, ADMIN, entity, "old_ref", label_zh=f"{entity}旧编号",
                label_en=f"{entity} old ref")
    D.add_field(crm, ADMIN, entity, "unused", label_zh=f"{entity}停用空字段",
                label_en=f"{entity} unused")


def _values(entity: str, canary: str) -> dict[str, str]:
    return {"campaign": f"{canary}-{entity}-cmp", "card": f"62220000{canary}{entity}",
            "old_ref": f"{canary}-{entity}-old"}


def _subject(crm, world, name: str, canary: str, phone: str, pid: int) -> int:
    nid = new_id()
    cid = full_customer(crm, world["rm1"], name, canary, pid, phone=phone, national_id=nid)
    lead = leads.create_lead(crm, world["rm1"], {  # linked to the customer by ID
        "name": name, "source": "referral", "national_id": nid,
        "note": f"{canary}-lead-note", "custom": _values("lead", canary)})
    oid = opportunities.create_opportunity(crm, world["rm1"], cid)
    with crm.db.write() as s:
        assert s.get(Lead, lead).customer_id == cid
        s.execute(update(Opportunity).where(Opportunity.id == oid).values(
            custom=stored_for_new(crm, "opportunity", _values("opportunity", canary))))
    tickets.create_ticket(crm, world["svc1"], cid, {
        "type": "complaint", "subject": f"{canary}-ticket", "custom": _values("ticket", canary)})
    return cid


def test_copy_carries_the_records_custom_values(crm, world, tmp_path) -> None:
    wechat_field(crm, world["admin"])
    for entity in ("lead", "opportunity", "ticket"):
        _fields(crm, entity)
    pid = product(crm)
    cid = _subject(crm, world, "张三丰", "CANARYA", "13911112222", pid)
    _subject(crm, world, "李四光", "CANARYB", "13933334444", pid)
    for entity in ("lead", "opportunity", "ticket"):
        D.retire_field(crm, ADMIN, entity, "old_ref")
        D.retire_field(crm, ADMIN, entity, "unused")

    report = copy_file.make_copy(crm, world["comp1"], cid, tmp_path / "copy.json", "json",
                                 lang="zh_CN")
    assert report.counts["leads"] == report.counts["opportunities"] == 1
    assert report.counts["tickets"] == 1
    text = report.path.read_text(encoding="utf-8")
    doc = json.loads(text)
    sections = {s["key"]: s for s in doc["sections"]}
    assert sections["leads"]["title"] == "销售线索"
    for key, entity in (("leads", "lead"), ("opportunities", "opportunity"),
                        ("tickets", "ticket")):
        (row,) = sections[key]["rows"]
        assert row[f"{entity}活动代码"] == f"CANARYA-{entity}-cmp"
        assert row[f"{entity}旧编号"] == f"CANARYA-{entity}-old"  # retired, holds a value
        assert f"{entity}停用空字段" not in row  # retired and empty: left out
        assert row[f"{entity}卡号"] == f"62220000CANARYA{entity}"  # the subject's own data
    assert sections["leads"]["rows"][0]["来源"] == catalog("zh_CN")["sales.source.referral"]
    assert "CANARYA-lead-note" in text and "CANARYA-ticket" in text
    assert "CANARYB" not in text and "李四光" not in text
    with crm.db.read() as s:  # no ciphertext: every stored sensitive value is decrypted
        stored = [r.custom["card"] for model in (Lead, Opportunity, Ticket)
                  for r in s.scalars(select(model))]
    assert stored and not any(enc in text for enc in stored)

    xlsx = copy_file.make_copy(crm, world["comp1"], cid, tmp_path / "copy.xlsx", "xlsx",
                               lang="en").path
    wb = load_workbook(xlsx, read_only=True)
    assert {"Leads", "Opportunities", "Service tickets"} <= set(wb.sheetnames)
    header = next(wb["Opportunities"].iter_rows(values_only=True))
    assert "opportunity campaign" in header and "opportunity old ref" in header
    assert "opportunity unused" not in header

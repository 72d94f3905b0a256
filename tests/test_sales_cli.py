"""`crm import leads` (Chinese and English headers, row errors, rejects file, exit codes,
created_at history, XLSX) and `crm leads list` / `crm opportunities list --json`."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from tests.cli_support import add_org, crm_cli, init_db, open_db, sql
from tests.sales_support import use_rules
from tests.test_sales_leads import TEAM_RR

CSV_ZH = """姓名,来源,手机号,网点,预估资产,意向产品,创建时间
张三,官网,13912345678,BJ01,800000,理财,2026-11-20 09:30
李四,推荐,13800001111,BJ01,6500000,基金,
坏行,电视,123,BJ01,-1,,
王五,到店,,XX99,100,,
"""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = init_db(tmp_path / "crm.db")
    add_org(path)
    crm = open_db(path)
    try:
        use_rules(crm, TEAM_RR)
    finally:
        crm.db.dispose()
    return path


def test_import_leads_chinese_headers_errors_rejects_and_history(db, tmp_path):
    src = tmp_path / "leads.csv"
    src.write_text(CSV_ZH, encoding="gbk")
    r = crm_cli("import", "leads", str(src), "--db", str(db))
    assert r.code == 1
    lines = r.err.splitlines()
    assert any(line.startswith("row 4: Source:") for line in lines), r.err
    assert any(line.startswith("row 4: Mobile:") for line in lines)
    assert any(line.startswith("row 5: Branch:") for line in lines), r.err
    assert "2 stored" in r.out and "2 rejected" in r.out
    rejects = tmp_path / "leads.csv.rejects.csv"
    assert rejects.stat().st_mode & 0o777 == 0o600
    assert "坏行" in rejects.read_text(encoding="utf-8-sig")
    rows = sql(db, "select name, phone_enc, created_at, owner_id from lead order by id")
    assert [r_[0] for r_ in rows] == ["张三", "李四"]
    assert "13912345678" not in rows[0][1]
    assert rows[0][2].startswith("2026-11-20 01:30")  # 09:30 Shanghai, stored UTC

    r = crm_cli("leads", "list", "--json", "--db", str(db))
    assert r.code == 0, r.err
    data = json.loads(r.out)
    required = {"id", "status", "owner", "created_at", "assigned_at", "first_contact_due",
                "first_contact_at", "breached", "customer_id", "amount", "stage_entered_at"}
    assert required <= set(data[0])
    zhang = next(d for d in data if d["name"] == "张三")
    assert zhang["created_at"] == "2026-11-20T09:30:00+08:00"
    assert zhang["first_contact_due"] == "2026-11-21T09:30:00+08:00" and zhang["breached"]
    assert datetime.fromisoformat(zhang["assigned_at"]).utcoffset() is not None
    assert zhang["owner"] == "rm1"  # rm3 in the same team is disabled
    r = crm_cli("leads", "list", "--owner", "nobody", "--json", "--db", str(db))
    assert json.loads(r.out) == []
    r = crm_cli("leads", "list", "--status", "weird", "--db", str(db))
    assert r.code != 0 and "Traceback" not in r.err


def test_import_leads_xlsx_english_headers_and_unknown_header(db, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["Name", "Source", "Mobile", "Branch", "Estimated assets"])
    ws.append(["Zhao Liu", "campaign", "13700002222", "SH01", 120000])
    path = tmp_path / "leads.xlsx"
    wb.save(path)
    r = crm_cli("import", "leads", str(path), "--db", str(db))
    assert r.code == 0, r.err + r.out
    assert sql(db, "select count(*) from lead") == [(1,)]
    bad = tmp_path / "bad.csv"
    bad.write_text("name,source,colour\nA,web,red\n", encoding="utf-8")
    r = crm_cli("import", "leads", str(bad), "--db", str(db))
    assert r.code == 1 and "colour" in r.err and "Traceback" not in r.err


def test_opportunities_list_json(db, tmp_path):
    r = crm_cli("opportunities", "list", "--json", "--db", str(db))
    assert r.code == 0 and json.loads(r.out) == []
    r = crm_cli("opportunities", "list", "--stage", "nowhere", "--db", str(db))
    assert r.code != 0 and "Traceback" not in r.err

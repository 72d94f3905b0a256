"""Custom fields from the shell: lead and ticket imports with custom-field headers named by
key or by either label, `--field KEY=VALUE` filters on `crm leads|opportunities|tickets
list`, the `custom` object in their `--json`, and one-line errors for a bad filter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_support import crm_cli, init_db
from tests.test_service_cli import db  # noqa: F401  (a store with a customer to match)


def _define(path: Path, *args: str) -> None:
    r = crm_cli("fields", "add", *args, "--db", str(path))
    assert r.code == 0, r.err


def test_lead_import_by_label_and_list_filter(tmp_path: Path) -> None:
    path = init_db(tmp_path / "crm.db")
    _define(path, "lead", "campaign", "--type", "choice", "--label-zh", "来源活动",
            "--label-en", "Campaign", "--choices", "春季理财节,代发工资", "--filterable")
    _define(path, "lead", "referrer", "--label-zh", "推荐人", "--label-en", "Referrer")
    src = tmp_path / "leads.csv"
    src.write_text("name,source,来源活动,Referrer\n"
                   "客户甲,web,代发工资,王芳\n"
                   "客户乙,web,春季理财节,\n"
                   "客户丙,web,双十一,\n", encoding="utf-8")
    r = crm_cli("import", "leads", str(src), "--db", str(path))
    assert r.code == 1  # one row rejected, named by row and field
    assert "row 4" in r.err and "Campaign" in r.err
    r = crm_cli("leads", "list", "--json", "--field", "campaign=代发工资", "--db", str(path))
    assert r.code == 0, r.err
    rows = json.loads(r.out)
    assert [(d["name"], d["custom"]) for d in rows] == [
        ("客户甲", {"campaign": "代发工资", "referrer": "王芳"})]
    everyone = json.loads(crm_cli("leads", "list", "--json", "--db", str(path)).out)
    assert {d["name"]: d["custom"] for d in everyone} == {
        "客户甲": {"campaign": "代发工资", "referrer": "王芳"}, "客户乙": {"campaign": "春季理财节"}}
    r = crm_cli("leads", "list", "--field", "campaign=双十一", "--db", str(path))
    assert r.code != 0 and "Traceback" not in r.err
    assert r.err.strip() == "crm: Campaign: “双十一” is not one of the allowed values"
    r = crm_cli("leads", "list", "--field", "referrer=王芳", "--db", str(path))
    assert r.code != 0 and "not a filterable" in r.err
    r = crm_cli("opportunities", "list", "--json", "--field", "referrer=x", "--db", str(path))
    assert r.code != 0 and "not a filterable" in r.err


def test_ticket_import_and_list_filter(db: tuple[Path, str, str],  # noqa: F811
                                       tmp_path: Path) -> None:
    path, nid, phone = db
    _define(path, "ticket", "severity", "--type", "choice", "--label-zh", "严重程度",
            "--label-en", "Severity", "--choices", "低,高", "--filterable")
    src = tmp_path / "calls.csv"
    src.write_text("证件号码,工单类型,主题,severity\n"
                   f"{nid},咨询,利率咨询,高\n"
                   f"{nid},咨询,开户预约,低\n", encoding="utf-8")
    r = crm_cli("import", "tickets", str(src), "--db", str(path))
    assert r.code == 0, r.err
    r = crm_cli("tickets", "list", "--json", "--field", "severity=高", "--db", str(path))
    assert r.code == 0, r.err
    rows = json.loads(r.out)
    assert [(d["subject"], d["custom"]) for d in rows] == [("利率咨询", {"severity": "高"})]


@pytest.mark.parametrize("item", ["severity", "=高"])
def test_a_malformed_filter_is_one_line(db: tuple[Path, str, str], item: str) -> None:  # noqa: F811
    path, _, _ = db
    r = crm_cli("tickets", "list", "--field", item, "--db", str(path))
    assert r.code != 0 and "KEY=VALUE" in r.err and "Traceback" not in r.err


def test_field_history_says_each_change_in_words(tmp_path: Path) -> None:
    path = init_db(tmp_path / "crm.db")
    _define(path, "ticket", "severity", "--type", "choice", "--label-zh", "严重程度",
            "--label-en", "Severity", "--choices", "低,高")
    assert crm_cli("fields", "edit", "ticket", "severity", "--choices", "低,中,高",
                   "--filterable", "--db", str(path)).code == 0
    assert crm_cli("fields", "retire", "ticket", "severity", "--db", str(path)).code == 0
    history = json.loads(crm_cli("fields", "history", "ticket", "severity", "--db",
                                 str(path)).out)
    assert [h["changes"] for h in history] == [
        ["new field ticket.severity: 严重程度 (choice)"],
        ["ticket.severity choices: 低, 高 → 低, 中, 高", "ticket.severity filterable: ✗ → ✓"],
        ["field ticket.severity retired (stored values are kept)"]]

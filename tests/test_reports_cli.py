"""`crm report` as a contract: list (and --json), run NAME in every format (table, csv, json,
xlsx with --out), a bad name or format → one line and a non-zero exit; XLSX read back with
openpyxl: numbers as numbers with a money format, months as dates, defused text; files 0600."""

from __future__ import annotations

import json
import stat
from datetime import datetime

import openpyxl
import pytest

from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.reporting.report_definitions import parse_definition
from crm_tui.domain.reporting.report_files import write_report
from crm_tui.domain.reporting.reports import import_reports, run_report
from crm_tui.store.models import Customer, Product, Trade
from tests.cli_support import add_org, crm_cli, init_db, open_db

BY_OCCUPATION = """
name = "by-occupation"
title_zh = "按职业"
title_en = "By occupation"
entity = "customers"
dimensions = ["occupation"]
measures = [
    "count",
    "sum:aum",
    { fn = "rate", key = "active", label_en = "=active share", label_zh = "=活跃", when = [
        { field = "status", value = "active" }] },
]
"""
BY_MONTH = """
name = "subs-by-month"
title_zh = "月度认购"
title_en = "Subscriptions by month"
entity = "trades"
dimensions = ["occurred_at:month"]
measures = ["count", "sum:amount"]
chart = "line"
"""


@pytest.fixture
def db(tmp_path):
    path = init_db(tmp_path / "crm.db")
    add_org(path)
    crm = open_db(path)
    try:
        with crm.db.write() as s:
            p = Product(code="F1", name="基金", category="fund", risk_level="R2")
            s.add(p)
            s.flush()
            for name, occupation, aum, status in (("甲", "=HYPERLINK(\"http://x\")", 100_050, "active"),
                                                  ("乙", "teacher", 2_000_000, "dormant"),
                                                  ("丙", "teacher", 1_000, "active")):
                c = Customer(name=name, occupation=occupation, aum_fen=aum, status=status)
                s.add(c)
                s.flush()
                s.add(Trade(customer_id=c.id, product_id=p.id, kind="subscription", amount_fen=aum,
                            occurred_at=datetime.fromisoformat("2026-07-15T10:00:00+08:00")))
        for i, text in enumerate((BY_OCCUPATION, BY_MONTH)):
            (tmp_path / f"r{i}.toml").write_text(text, encoding="utf-8")
        import_reports(crm, system_actor("t"), [tmp_path / "r0.toml", tmp_path / "r1.toml"])
    finally:
        crm.db.dispose()
    return path


def test_list_and_run_in_every_format(db, tmp_path) -> None:
    r = crm_cli("report", "list", "--json", "--db", str(db))
    assert r.code == 0, r.err
    assert [(x["name"], x["entity"], x["valid"]) for x in json.loads(r.out)] == [
        ("by-occupation", "customers", True), ("subs-by-month", "trades", True)]
    assert "By occupation" in crm_cli("report", "list", "--db", str(db)).out
    r = crm_cli("report", "run", "by-occupation", "--format", "json", "--db", str(db))
    assert r.code == 0, r.err
    k = json.loads(r.out)
    assert k["scope"]["book"] == "bank" and [c["key"] for c in k["columns"]] == [
        "occupation", "count", "sum_aum", "active"]
    assert k["rows"] == [  # sorted by occupation; money as yuan strings, rates as fractions
        {"occupation": "=HYPERLINK(\"http://x\")", "count": 1, "sum_aum": "1000.50", "active": 1.0},
        {"occupation": "teacher", "count": 2, "sum_aum": "20010.00", "active": 0.5}]
    r = crm_cli("report", "run", "by-occupation", "--format", "csv", "--db", str(db))
    assert r.code == 0, r.err
    assert r.out.splitlines() == ["Occupation,Count,Total AUM,'=active share",
                                  "\"'=HYPERLINK(\"\"http://x\"\")\",1,1000.50,1.0",
                                  "teacher,2,20010.00,0.5"]
    r = crm_cli("report", "run", "by-occupation", "--db", str(db))
    assert r.code == 0 and "20,010.00" in r.out and "50.0%" in r.out
    out = tmp_path / "out.csv"
    r = crm_cli("report", "run", "by-occupation", "--format", "csv", "--out", str(out), "--db", str(db))
    assert r.code == 0, r.err
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and "teacher" in out.read_text(encoding="utf-8-sig")


def test_xlsx_types_and_defused_cells(db, tmp_path) -> None:
    out = tmp_path / "r.xlsx"
    r = crm_cli("report", "run", "by-occupation", "--format", "xlsx", "--out", str(out), "--db", str(db))
    assert r.code == 0, r.err
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    ws = openpyxl.load_workbook(out).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("Occupation", "Count", "Total AUM", "'=active share")
    assert rows[1][0] == "'=HYPERLINK(\"http://x\")"  # text, never a formula
    assert ws.cell(2, 1).data_type == "s"
    assert ws.cell(3, 2).value == 2 and isinstance(ws.cell(3, 2).value, int)
    assert ws.cell(3, 3).value == pytest.approx(20010.0) and ws.cell(3, 3).number_format == "#,##0.00"
    assert ws.cell(3, 4).value == 0.5 and ws.cell(3, 4).number_format == "0.0%"
    out2 = tmp_path / "m.xlsx"
    assert crm_cli("report", "run", "subs-by-month", "--format", "xlsx", "--out", str(out2),
                   "--db", str(db)).code == 0
    ws = openpyxl.load_workbook(out2).worksheets[0]
    month = ws.cell(2, 1)
    assert month.value == datetime(2026, 7, 1) and month.is_date and month.number_format == "yyyy-mm"


def test_bad_name_format_or_missing_out_is_one_line(db) -> None:
    for args in (("run", "no-such-report"), ("run", "by-occupation", "--format", "pdf"),
                 ("run", "by-occupation", "--format", "xlsx")):
        r = crm_cli("report", *args, "--db", str(db))
        assert r.code != 0 and "Traceback" not in r.err
        assert len(r.err.strip().splitlines()) == 1, r.err
    assert "no-such-report" in crm_cli("report", "run", "no-such-report", "--db", str(db)).err


def test_import_export_fields_and_delete(db, tmp_path) -> None:
    r = crm_cli("report", "export", "subs-by-month", "--db", str(db))
    assert r.code == 0 and 'entity = "trades"' in r.out
    (tmp_path / "again.toml").write_text(r.out.replace("subs-by-month", "subs-2"), encoding="utf-8")
    r = crm_cli("report", "import", str(tmp_path / "again.toml"), "--db", str(db))
    assert r.code == 0 and "subs-2: created" in r.out
    bad = tmp_path / "bad.toml"
    bad.write_text(BY_MONTH.replace('"sum:amount"', '"sum:kind"').replace("subs-by-month", "x"),
                   encoding="utf-8")
    r = crm_cli("report", "import", str(bad), "--db", str(db))
    assert r.code != 0 and r.err.strip() == (
        "crm: bad.toml: measures[1].field: “kind” is of kind choice; sum needs a number")
    r = crm_cli("report", "fields", "tickets", "--json", "--db", str(db))
    assert r.code == 0 and {"key": "resolution_hours", "kind": "duration"}.items() <= next(
        f for f in json.loads(r.out) if f["key"] == "resolution_hours").items()
    assert crm_cli("report", "delete", "subs-2", "--db", str(db)).code == 0
    assert crm_cli("report", "run", "subs-2", "--db", str(db)).code != 0


def test_run_as_a_staff_member_uses_her_scope(db) -> None:
    crm = open_db(db)
    try:
        from sqlalchemy import update

        with crm.db.write() as s:
            rm1 = s.scalar(Customer.__table__.select().with_only_columns(Customer.id).limit(1))
            from crm_tui.store.models import Staff

            staff_id = s.scalar(Staff.__table__.select().with_only_columns(Staff.id)
                                .where(Staff.username == "rm1"))
            s.execute(update(Customer).where(Customer.id == rm1).values(rm_id=staff_id))
    finally:
        crm.db.dispose()
    from tests.cli_support import STAFF_PASSWORD

    r = crm_cli("report", "run", "by-occupation", "--format", "json", "--as", "rm1", "--db", str(db),
                input=STAFF_PASSWORD + "\n")
    assert r.code == 0, r.err
    k = json.loads(r.out)
    assert k["scope"] == {"user": "rm1", "role": "rm", "book": "own"}
    assert [row["count"] for row in k["rows"]] == [1]


def test_write_report_refuses_the_live_database(crm, world, tmp_path) -> None:
    d = parse_definition({"name": "x", "title_zh": "x", "title_en": "x", "entity": "customers",
                          "measures": ["count"]})
    result = run_report(crm, world["bh1"], d)
    from crm_tui.domain.kernel.errors import DomainError

    if crm.db.sqlite_path is not None:
        with pytest.raises(DomainError):
            write_report(crm, world["bh1"], result, crm.db.sqlite_path, "csv")
    path = write_report(crm, world["bh1"], result, tmp_path / "x.json", "json")
    assert json.loads(path.read_text())["rows"] == [{"count": 0}]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

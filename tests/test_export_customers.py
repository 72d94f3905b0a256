"""`crm export customers`: masked sensitive values, defused formula cells, scoped, audited."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from crm_tui.domain.admin.auth import login
from crm_tui.domain.data_io.exporter import defuse, export_customers
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
from tests.customer_files import HEADERS_EN, rows, write_csv


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("export")
    db = init_db(base / "crm.db")
    add_org(db)
    headers = [*HEADERS_EN, "occupation"]
    body_rows = [[*r, ""] for r in rows(6)]
    name, address, branch, rm, occupation = (headers.index(h) for h in (
        "name", "address", "branch_code", "rm_username", "occupation"))
    body_rows[0][address] = "=1+2"  # what a spreadsheet would run, if not defused
    body_rows[1][address] = "@SUM(A1:A9)"
    body_rows[2][occupation] = "-3+4"
    body_rows[3][occupation] = "+cmd|' /C calc'!A0"  # names refuse it: the name rule
    body_rows[4][branch], body_rows[4][rm] = "SH01", "rm2"
    write_csv(base / "in.csv", body_rows, headers=headers)
    r = crm_cli("import", "customers", str(base / "in.csv"), "--db", str(db))
    assert r.code == 0, r.err
    return db


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    return copy_db(template, tmp_path)


def test_defuse() -> None:
    for text in ("=A1", "+1", "-1", "@x", "\tx", "\rx"):
        assert defuse(text) == "'" + text
    assert defuse("张三") == "张三" and defuse(12) == 12 and defuse("") == ""


def _branch_head(db: Path) -> None:
    crm = open_db(db)
    try:
        add_user_approved(crm, "bh1", "刘洋", "branch_head", STAFF_PASSWORD, "BJ01")
    finally:
        crm.db.dispose()


def test_csv_export_is_masked_defused_and_audited(db: Path, tmp_path: Path) -> None:
    _branch_head(db)
    out = tmp_path / "out.csv"
    r = crm_cli("export", "customers", "--format", "csv", "--out", str(out), "--as", "bh1",
                "--db", str(db), input=STAFF_PASSWORD + "\n")
    assert r.code == 0, r.err
    assert "exported 5 customers" in r.out  # bh1's branch only
    with out.open(encoding="utf-8-sig", newline="") as fh:
        got = list(csv.reader(fh))
    header, body = got[0], got[1:]
    assert header[:5] == ["Customer no.", "Name", "Customer type", "ID type", "National ID"]
    assert len(body) == 5
    addresses, jobs = [b[10] for b in body], [b[11] for b in body]
    assert "'=1+2" in addresses and "'+cmd|' /C calc'!A0" in jobs
    assert "'@SUM(A1:A9)" in addresses and "'-3+4" in jobs
    stored = sql(db, "SELECT c.national_id_enc FROM customer c JOIN branch b ON b.id = c.branch_id "
                     "WHERE b.code = 'BJ01' ORDER BY c.id")
    crm = open_db(db)
    try:
        clear = [crm.keys.decrypt("national_id", enc) for (enc,) in stored]
    finally:
        crm.db.dispose()
    text = out.read_text(encoding="utf-8-sig")
    for nid, b in zip(clear, body, strict=True):
        assert nid not in text
        assert b[4] == "*" * 14 + nid[-4:]  # the policy's masking: no area code
        assert b[5].startswith("13") and "****" in b[5]
        birth = b[header.index("Date of birth")]
        assert birth == nid[6:10]  # beside a masked ID only the birth year appears
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    (actor, after) = sql(db, "SELECT actor_name, after FROM audit_event "
                             "WHERE action = 'customer.export'")[0]
    assert actor == "bh1"
    assert json.loads(after) == {"file": "out.csv", "format": "csv", "count": 5, "masked": True,
                                 "personal_columns": True}


def test_admin_export_has_no_personal_columns(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "admin.csv"
    r = crm_cli("export", "customers", "--out", str(out), "--db", str(db))
    assert r.code == 0, r.err
    text = out.read_text(encoding="utf-8-sig")
    header = next(csv.reader([text.splitlines()[0]]))
    for personal in ("Name", "National ID", "Phone", "Date of birth", "Address", "Email"):
        assert personal not in header
    assert "=1+2" not in text and "Customer no." in header
    bad = crm_cli("export", "customers", "--out", str(tmp_path / "x.csv"), "--as", "rm1",
                  "--db", str(db), input="wrong password\n")
    assert bad.code == 1 and not (tmp_path / "x.csv").exists()


def test_xlsx_export_has_no_formulas(db: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "out.xlsx"
    _branch_head(db)
    r = crm_cli("export", "customers", "--format", "xlsx", "--out", str(out), "--as", "bh1",
                "--db", str(db), input=STAFF_PASSWORD + "\n")
    assert r.code == 0, r.err
    ws = load_workbook(out).active
    cells = [c for row in ws.iter_rows(min_row=2) for c in row]
    assert all(c.data_type != "f" for c in cells)
    assert "'=1+2" in [c.value for c in cells]


def test_export_scope_follows_the_role(db: Path, tmp_path: Path) -> None:
    crm = open_db(db)
    try:
        add_user_approved(crm, "bh_sh", "郑敏", "branch_head", STAFF_PASSWORD, "SH01")
        head = login(crm, "bh_sh", STAFF_PASSWORD)
        report = export_customers(crm, head, tmp_path / "sh.csv", "csv")
        assert report.rows == 1  # only the SH01 customer
        rm = login(crm, "rm1", STAFF_PASSWORD)
        from crm_tui.domain.kernel.errors import PermissionDenied

        with pytest.raises(PermissionDenied):
            export_customers(crm, rm, tmp_path / "rm.csv", "csv")
        assert not (tmp_path / "rm.csv").exists()
    finally:
        crm.db.dispose()


def test_bad_format_and_directory(db: Path, tmp_path: Path) -> None:
    r = crm_cli("export", "customers", "--format", "pdf", "--db", str(db))
    assert r.code == 1 and "unknown format pdf" in r.err
    r = crm_cli("export", "customers", "--out", str(tmp_path / "no" / "x.csv"), "--db", str(db))
    assert r.code == 1 and "no directory" in r.err
    assert sql(db, "SELECT count(*) FROM audit_event WHERE action = 'customer.export'") == [(0,)]

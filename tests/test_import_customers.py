"""`crm import customers`: every row validated, bad rows named, good rows stored once, whole chunks."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import pytest

from crm_tui.domain.customers.search import search_customers
from crm_tui.domain.data_io.importer import ImportOptions, import_customers
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.kernel.validation import id_check_digit
from tests.cli_support import add_org, copy_db, crm_cli, file_bytes, init_db, open_db, sql
from tests.customer_files import HEADERS_EN, HEADERS_ZH, national_id, rows, write_csv, write_xlsx


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = init_db(tmp_path_factory.mktemp("import") / "crm.db")
    add_org(path)
    return path


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    return copy_db(template, tmp_path)


def run(db: Path, file: Path, *extra: str):  # type: ignore[no-untyped-def]
    return crm_cli("import", "customers", str(file), "--db", str(db), *extra)


def count(db: Path) -> int:
    return sql(db, "SELECT count(*) FROM customer")[0][0]


def row(name: str, nid: str, **over: str) -> list[str]:
    base = dict(zip(HEADERS_EN, [name, "身份证", nid, "13812345678", "", "", "", "北京市东城区", "C3",
                                 "100,000.00", "BJ01", "rm1"], strict=True))
    base.update(over)
    return [base[h] for h in HEADERS_EN]


def test_good_file_is_stored_encrypted_tagged_and_audited(db: Path, tmp_path: Path) -> None:
    body = list(rows(30))
    body[0][9] = "8,000,000.00"  # 高净值 by the default policy
    file = write_csv(tmp_path / "客户.csv", body)
    r = run(db, file)
    assert r.code == 0, r.err
    assert "30 stored" in r.out and "0 rejected" in r.out
    assert count(db) == 30
    name, pinyin, aum, branch, rm, enc, bidx = sql(db, """
        SELECT c.name, c.name_pinyin, c.aum_fen, b.code, s.username, c.national_id_enc,
               c.national_id_bidx
        FROM customer c JOIN branch b ON b.id = c.branch_id JOIN staff s ON s.id = c.rm_id
        ORDER BY c.id LIMIT 1""")[0]
    assert (name, aum, branch, rm) == (body[0][0], 800_000_000, "BJ01", "rm1")
    assert pinyin and pinyin.isascii()
    crm = open_db(db)
    try:
        assert crm.keys.decrypt("national_id", enc) == body[0][2]
        assert bidx == crm.keys.blind_index("national_id", body[0][2])
        from crm_tui.domain.admin.auth import login

        rm1 = login(crm, "rm1", "staff-pass-1")
        found = search_customers(crm, rm1, body[0][2])
        assert [c.name for c in found] == [body[0][0]]
    finally:
        crm.db.dispose()
    assert sql(db, "SELECT t.name FROM customer_tag ct JOIN tag t ON t.id = ct.tag_id "
                   "WHERE ct.customer_id = (SELECT min(id) FROM customer)") == [("高净值",)]
    (after,) = sql(db, "SELECT after FROM audit_event WHERE action = 'customer.import'")[0]
    event = json.loads(after)
    assert event == {"file": "客户.csv", "rows": "2-31", "count": 30, "already_imported": 0,
                     "rejected": 0}
    data = file_bytes(db)
    for cells in body:  # neither the national ID nor the phone in clear, in the file or its WAL
        assert cells[2].encode() not in data
        assert cells[3].encode() not in data
    assert crm_cli("audit", "verify", "--db", str(db)).code == 0


def test_bad_rows_are_named_written_to_rejects_and_the_rest_stored(db: Path, tmp_path: Path) -> None:
    good = national_id(1)
    bad_checksum = good[:17] + ("0" if good[17] != "0" else "1")
    fullwidth = national_id(2).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    body = [
        row("张三", good, aum="1,234,567.00"),                                 # 2 ok
        row("李四", bad_checksum),                                             # 3
        row("王五", national_id(3)[:17]),                                      # 4 17 digits
        row("赵六", national_id(4), birth_date="1985-13-45"),                  # 5 bad date
        row("钱七", fullwidth, phone="１３９１２３４５６７８"),                 # 6 ok (full width)
        row("孙八", national_id(5), aum="-5.00"),                              # 7 negative
        row("周九", good),                                                     # 8 repeats row 2
        row("吴十", national_id(6), rm_username="ghost"),                      # 9 unknown RM
        row("郑一", national_id(7), branch_code="ZZ99"),                       # 10 unknown branch
        row("冯二", national_id(8), rm_username="rm3"),                        # 11 disabled RM
        row("陈三", national_id(9), rm_username="rm2"),                        # 12 RM of SH01
        row("", national_id(10)),                                              # 13 no name
    ]
    file = write_csv(tmp_path / "in.csv", body, headers=HEADERS_EN)
    r = run(db, file)
    assert r.code == 1
    assert "2 stored" in r.out and "10 rejected" in r.out
    lines = [ln for ln in r.err.splitlines() if ln.startswith("row ")]
    expected = [
        "row 3: National ID: check digit does not match",
        "row 4: National ID: must be 18 characters",
        "row 5: Date of birth: “1985-13-45” is not a date",
        "row 7: AUM: “-5.00” must not be negative",
        "row 8: National ID: repeats the national ID of row 2",
        "row 9: Relationship manager: no relationship manager named ghost",
        "row 10: Branch: no branch with code ZZ99",
        "row 11: Relationship manager: rm3 is disabled",
        "row 12: Relationship manager: rm2 works in another branch",
        "row 13: Name: is required",
    ]
    assert len(lines) == len(expected)
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(start), (line, start)
    stored = sql(db, "SELECT name, aum_fen, phone_last4 FROM customer ORDER BY id")
    assert stored == [("张三", 123456700, "5678"), ("钱七", 10000000, "5678")]
    rejects = tmp_path / "in.csv.rejects.csv"
    assert str(rejects) in r.err
    with rejects.open(encoding="utf-8-sig", newline="") as fh:
        got = list(csv.reader(fh))
    assert got[0] == [*HEADERS_EN, "error"]
    assert [g[0] for g in got[1:]] == ["李四", "王五", "赵六", "孙八", "周九", "吴十", "郑一", "冯二",
                                       "陈三", ""]
    assert got[1][2] == bad_checksum and got[1][-1].startswith("row 3: National ID")
    assert oct(rejects.stat().st_mode & 0o777) == "0o600"


def test_reimport_skips_what_is_already_stored(db: Path, tmp_path: Path) -> None:
    first = write_csv(tmp_path / "a.csv", rows(20))
    assert run(db, first).code == 0
    again = run(db, first)
    assert again.code == 0
    assert "0 stored, 20 already imported, 0 rejected" in again.out
    overlapping = write_csv(tmp_path / "b.csv", rows(25, start=15))
    r = run(db, overlapping)
    assert r.code == 0 and "20 stored, 5 already imported" in r.out
    assert count(db) == 40
    assert sql(db, "SELECT count(DISTINCT national_id_bidx) FROM customer") == [(40,)]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-16"])
def test_encodings_are_detected(db: Path, tmp_path: Path, encoding: str) -> None:
    body = list(rows(5))
    file = write_csv(tmp_path / f"{encoding}.csv", body, encoding=encoding)
    r = run(db, file)
    assert r.code == 0, r.err
    assert "5 stored" in r.out
    assert sorted(n for (n,) in sql(db, "SELECT name FROM customer")) == sorted(b[0] for b in body)
    assert sql(db, "SELECT address FROM customer LIMIT 1") == [("北京市朝阳区建国路88号",)]


def test_xlsx_with_typed_cells(db: Path, tmp_path: Path) -> None:
    nid = national_id(42)
    born = datetime(int(nid[6:10]), int(nid[10:12]), int(nid[12:14]))
    body = [["刘洋", "身份证", nid, 13912345678, "liu@example.cn", born, "男", "上海", "C2",
             1234567.5, "BJ01", "rm1"],
            ["马丽", "身份证", national_id(43)[:-1] + "0", "", "", "", "", "", "", 0, "BJ01", "rm1"]]
    if national_id(43).endswith("0"):
        body[1][2] = national_id(43)[:-1] + "1"
    file = write_xlsx(tmp_path / "book.xlsx", body)
    r = run(db, file)
    assert r.code == 1
    assert "1 stored" in r.out and "row 3: National ID: check digit" in r.err
    assert sql(db, "SELECT name, birth_date, aum_fen, phone_last4 FROM customer") == [
        ("刘洋", born.date().isoformat(), 123456750, "5678")]


@pytest.mark.parametrize(("headers", "message"), [
    ([*HEADERS_ZH[:-1], "客户来源"], "unknown column “客户来源” (column 12)"),
    ([h for h in HEADERS_ZH if h != "证件号码"], "lacks required column(s): national_id"),
    ([*HEADERS_ZH, "Name"], "columns “Name” and “姓名” mean the same field"),
])
def test_header_problems_are_one_clear_error(db: Path, tmp_path: Path, headers: list[str],
                                             message: str) -> None:
    file = write_csv(tmp_path / "h.csv", [["x"] * len(headers)], headers=headers)
    r = run(db, file)
    assert r.code == 1
    assert message in r.err and len(r.err.strip().splitlines()) == 1
    assert count(db) == 0


def test_file_level_problems(db: Path, tmp_path: Path) -> None:
    assert "no file at" in run(db, tmp_path / "missing.csv").err
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    assert "old .xls" in run(db, old).err
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "is empty" in run(db, empty).err
    shifted = tmp_path / "shifted.csv"
    line = ",".join(row("张三", national_id(1), aum="1000")) + ",多出来的"
    shifted.write_text(",".join(HEADERS_ZH) + "\n" + line + "\n", encoding="utf-8")
    r = run(db, shifted)
    assert r.code == 1 and "row 2: has 13 cells but the header has 12 columns" in r.err


def test_strict_stores_nothing_unless_all_rows_are_good(db: Path, tmp_path: Path) -> None:
    body = list(rows(10))
    body[7][2] = body[7][2][:-1] + ("X" if body[7][2][-1] != "X" else "0")
    bad = write_csv(tmp_path / "bad.csv", body)
    r = run(db, bad, "--strict")
    assert r.code == 1 and "nothing stored because 1 of 10 rows" in r.out
    assert "row 9: National ID" in r.err
    assert count(db) == 0
    good = write_csv(tmp_path / "good.csv", rows(10))
    assert run(db, good, "--strict").code == 0
    assert count(db) == 10


def test_dry_run_stores_nothing(db: Path, tmp_path: Path) -> None:
    write_csv(tmp_path / "first.csv", rows(3))
    assert run(db, tmp_path / "first.csv").code == 0
    file = write_csv(tmp_path / "f.csv", rows(8))
    r = run(db, file, "--dry-run")
    assert r.code == 0
    assert "5 would be stored, 3 already imported, 0 rejected" in r.out
    assert count(db) == 3
    events = sql(db, "SELECT count(*) FROM audit_event WHERE action = 'customer.import'")
    assert events == [(1,)]


def test_defaults_for_branch_and_rm(db: Path, tmp_path: Path) -> None:
    body = [r[:10] for r in rows(3)]
    file = write_csv(tmp_path / "nobranch.csv", body, headers=HEADERS_ZH[:10])
    r = run(db, file)
    assert r.code == 1 and "row 2: Branch: is required (or pass --branch)" in r.err
    r = run(db, file, "--branch", "SH01", "--rm", "rm2")
    assert r.code == 0, r.err
    assert sql(db, "SELECT DISTINCT b.code, s.username FROM customer c JOIN branch b ON b.id = "
                   "c.branch_id JOIN staff s ON s.id = c.rm_id") == [("SH01", "rm2")]
    assert "no branch with code NO01" in run(db, file, "--branch", "NO01").err


def test_rm_alone_gives_the_branch(db: Path, tmp_path: Path) -> None:
    body = [r[:10] for r in rows(2)]
    file = write_csv(tmp_path / "rmonly.csv", body, headers=HEADERS_ZH[:10])
    assert run(db, file, "--rm", "rm2").code == 0
    assert sql(db, "SELECT DISTINCT b.code FROM customer c JOIN branch b ON b.id = c.branch_id") == [
        ("SH01",)]


def test_worker_processes_give_the_same_result(db: Path, tmp_path: Path) -> None:
    body = list(rows(1200))
    body[100][2] = "1234"
    body[900][2] = body[10][2]
    file = write_csv(tmp_path / "par.csv", body)
    crm = open_db(db)
    try:
        errors = []
        report = import_customers(crm, system_actor(), file,
                                  ImportOptions(workers=2, chunk_rows=250), on_error=errors.append)
    finally:
        crm.db.dispose()
    assert (report.rows, report.stored, report.rejected, report.chunks) == (1200, 1198, 2, 5)
    assert [e.line() for e in errors] == [
        "row 102: National ID: must be 18 characters: 17 digits and a digit or X",
        "row 902: National ID: repeats the national ID of row 12"]
    assert count(db) == 1198
    assert sql(db, "SELECT count(*) FROM audit_event WHERE action = 'customer.import'") == [(5,)]


def test_row_numbers_count_blank_lines(db: Path, tmp_path: Path) -> None:
    good = national_id(7)
    file = tmp_path / "blank.csv"
    file.write_text(",".join(HEADERS_EN) + "\n" + ",".join(row("甲", good, aum="1")) + "\n\n"
                    + ",".join(row("乙", "123", aum="1")) + "\n", encoding="utf-8")
    r = run(db, file)
    assert "row 4: National ID" in r.err


def test_id_check_digit_helper_agrees() -> None:
    nid = national_id(12345)
    assert id_check_digit(nid[:17]) == nid[17]

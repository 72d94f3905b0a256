"""Imports that survive any cell (issue 7): every row is stored or named, the run goes on,
nothing exits 70. Random cells by hypothesis into CSV and XLSX; the reported reproductions."""

from __future__ import annotations

import csv
import itertools
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from crm_tui.domain.data_io.importer import ImportOptions, import_customers
from crm_tui.domain.data_io.readers import MAX_RECORD_CHARS, ImportFileError
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.kernel.errors import FieldError
from crm_tui.store.models import Customer
from tests.cli_support import add_org, copy_db, crm_cli, init_db
from tests.customer_files import HEADERS_ZH, rows, write_csv, write_xlsx

_file_no = itertools.count()

ODD = ["1e309", "1E+20", "99999999999999999999999999.99", "-0", "1e300", "NaN", "inf",
       "0001-01-01T00:00:00+14:00", "9999-12-31", "0000-00-00", "1899-12-31", "'", '"', 'a"b',
       '"unclosed', "\x00", "\u202e", "=cmd|' /C calc'!A0", "１２３", "𠀀𠀁", " ", "\r"]
cell = st.one_of(st.text(max_size=40), st.sampled_from(ODD),
                 st.integers(min_value=-10**30, max_value=10**30).map(str),
                 st.floats(allow_nan=True, allow_infinity=True).map(repr))


def _import(crm, path: Path) -> tuple[object, list[FieldError]]:
    errors: list[FieldError] = []
    report = import_customers(crm, system_actor(), path,
                              ImportOptions(default_branch="BJ01", workers=1,
                                            rejects_path=path.with_suffix(".rej.csv")),
                              on_error=errors.append)
    return report, errors


def _assert_every_row_stored_or_named(crm, report, errors, before: int) -> None:
    with crm.db.read() as s:
        after = s.scalar(select(func.count()).select_from(Customer)) or 0
    named = {e.row for e in errors}
    assert None not in named
    assert len(named) == report.rejected
    assert after - before == report.stored
    assert report.stored + report.already_imported + report.rejected == report.rows


def _mix(data: st.DataObject, n: int) -> list[list[str]]:
    body = [list(r) for r in rows(n, start=next(_file_no) * 50)]
    for r in body:
        for i in range(len(r)):
            if data.draw(st.booleans()):
                r[i] = data.draw(cell)
    return body


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), raw=st.booleans())
def test_random_csv_cells_never_escape_a_row(sqlite_crm, sqlite_world, tmp_path: Path, data,
                                             raw: bool) -> None:
    crm = sqlite_crm
    body = _mix(data, data.draw(st.integers(1, 6)))
    path = tmp_path / f"r{next(_file_no)}.csv"
    if raw:  # written by hand: stray quotes stay unbalanced, no escaping
        text = ",".join(HEADERS_ZH) + "\n" + "".join(
            ",".join(c.replace("\n", " ").replace(",", ";") for c in r) + "\n" for r in body)
        path.write_text(text, encoding="utf-8")
    else:
        write_csv(path, body)
    with crm.db.read() as s:
        before = s.scalar(select(func.count()).select_from(Customer)) or 0
    try:
        report, errors = _import(crm, path)
    except ImportFileError:
        return  # a whole-file refusal (e.g. an encoding guess) is a clear message, not exit 70
    _assert_every_row_stored_or_named(crm, report, errors, before)


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_random_xlsx_cells_never_escape_a_row(sqlite_crm, sqlite_world, tmp_path: Path,
                                              data) -> None:
    crm = sqlite_crm
    body: list[list[object]] = [list(r) for r in _mix(data, data.draw(st.integers(1, 5)))]
    for r in body:  # typed cells too: 1e300 as a number, 10**23 as an int
        if data.draw(st.booleans()):
            r[9] = data.draw(st.sampled_from([1e300, -1e300, 10**23, 0.1, -0.0]))
    path = tmp_path / f"x{next(_file_no)}.xlsx"
    try:
        write_xlsx(path, body)
    except Exception:  # openpyxl itself refuses control characters: not a file anyone has
        assume(False)
    with crm.db.read() as s:
        before = s.scalar(select(func.count()).select_from(Customer)) or 0
    report, errors = _import(crm, path)
    _assert_every_row_stored_or_named(crm, report, errors, before)


# -- the reported reproductions, through the CLI -------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = init_db(tmp_path_factory.mktemp("anycell") / "crm.db")
    add_org(db)
    return db


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    (tmp_path / "live").mkdir()
    return copy_db(template, tmp_path / "live")


def _cli_import(db: Path, path: Path):  # type: ignore[no-untyped-def]
    return crm_cli("import", "customers", str(path), "--db", str(db))


@pytest.mark.parametrize("amount", ["1e309", "1E+20", "99999999999999999999999999.99"])
def test_a_huge_amount_is_a_row_error_and_the_rest_is_stored(db: Path, tmp_path: Path,
                                                             amount: str) -> None:
    body = [list(r) for r in rows(5)]
    body[2][9] = amount
    r = _cli_import(db, write_csv(tmp_path / "a.csv", body))
    assert r.code == 1, r.err  # rows rejected: 1, not 70
    assert "row 4" in r.err and "4 stored" in r.out.replace(",", "")


def test_runaway_quote_is_named_at_its_line_and_reading_goes_on(db: Path, tmp_path: Path) -> None:
    good = [[c.replace(",", "") for c in r] for r in rows(4)]
    lines = [",".join(HEADERS_ZH)] + [",".join(r) for r in good]
    lines[2] = '"' + lines[2]  # line 3 opens a quote that never closes
    path = tmp_path / "q.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = _cli_import(db, path)
    assert r.code == 1
    assert "line 3" in r.err and "never closed" in r.err
    assert "3 stored" in r.out


def test_a_field_over_the_limit_is_a_row_error(db: Path, tmp_path: Path) -> None:
    body = [list(r) for r in rows(3)]
    body[1][7] = "长" * (MAX_RECORD_CHARS + 10)
    r = _cli_import(db, write_csv(tmp_path / "long.csv", body))
    assert r.code == 1 and "row 3" in r.err and "2 stored" in r.out


def test_xlsx_bombs_are_refused_before_parsing(db: Path, tmp_path: Path) -> None:
    laughs = tmp_path / "laughs.xlsx"
    write_xlsx(laughs, [list(r) for r in rows(1)])
    with zipfile.ZipFile(laughs) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    entities = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)) + "]>"
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = entities.encode() + parts[sheet].replace(b"<t>", b"<t>&i;", 1)
    with zipfile.ZipFile(laughs, "w") as zf:
        for n, b in parts.items():
            zf.writestr(n, b)
    r = _cli_import(db, laughs)
    assert r.code == 1 and len(r.err.strip().splitlines()) == 1, r.err

    spaces = tmp_path / "spaces.xlsx"
    with zipfile.ZipFile(spaces, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr(sheet, b"<x>" + b" " * (200 * 1024 * 1024) + b"</x>")
    r = _cli_import(db, spaces)
    assert r.code == 1 and "over the limits" in r.err


def test_feed_lines_with_absurd_values_are_named(db: Path, tmp_path: Path) -> None:
    feed = tmp_path / "events.csv"
    with feed.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["type", "customer_id", "occurred_at", "tx_kind", "amount", "currency"])
        w.writerow(["transaction", str(10**23), "2026-11-30T10:00:00+08:00", "transfer_out",
                    "100", "CNY"])
        w.writerow(["transaction", "1", "0001-01-01T00:00:00+14:00", "transfer_out", "1", "CNY"])
        w.writerow(["transaction", "1", "2026-11-30T10:00:00+08:00", "transfer_out", "1E+20",
                    "CNY"])
    r = crm_cli("import", "events", str(feed), "--db", str(db))
    assert r.code != 70 and r.code == 1, r.err
    for line in ("line 2", "line 3", "line 4"):
        assert line in r.err

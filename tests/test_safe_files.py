"""Output-path safety (issue 7): no command writes over the live database, its -wal/-shm, the
key file or its own input, follows a link, or keeps a pre-existing file's wide rights."""

from __future__ import annotations

import csv
import os
import sqlite3
from pathlib import Path

import pytest

from crm_tui.domain.kernel import safe_files
from tests.cli_support import add_org, copy_db, crm_cli, init_db, key_path, sql
from tests.customer_files import HEADERS_ZH, rows, write_csv


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("safe")
    db = init_db(base / "x.db")
    add_org(db)
    assert crm_cli("import", "customers", str(write_csv(base / "a.csv", rows(20))), "--db",
                   str(db)).code == 0
    return db


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    (tmp_path / "live").mkdir()
    return copy_db(template, tmp_path / "live")


def fingerprint(db: Path) -> tuple[bytes, bytes]:
    return db.read_bytes()[:100], key_path(db).read_bytes()


def assert_intact(db: Path, before: tuple[bytes, bytes]) -> None:
    assert fingerprint(db) == before
    assert sql(db, "PRAGMA integrity_check") == [("ok",)]
    assert sql(db, "SELECT count(*) FROM customer") == [(20,)]


def bad_csv(path: Path) -> Path:
    data = list(rows(3, start=500))
    data[1][2] = "110105198506120000"  # a wrong check digit: rejected
    data[1][0] = "=HYPERLINK(\"http://evil\")"
    return write_csv(path, data)


@pytest.mark.parametrize("suffix", ["", ".key", "-wal", "-shm"])
def test_export_refuses_the_database_its_journal_and_the_key(db: Path, suffix: str) -> None:
    sqlite3.connect(db).execute("SELECT 1").fetchall()
    before = fingerprint(db)
    target = key_path(db) if suffix == ".key" else db.with_name(db.name + suffix)
    r = crm_cli("export", "customers", "--db", str(db), "--out", str(target))
    assert r.code == 1, r.out
    assert str(target) in r.err and "choose another output file" in r.err
    assert len(r.err.strip().splitlines()) == 1
    assert_intact(db, before)


def test_export_refuses_a_second_name_for_the_database(db: Path, tmp_path: Path) -> None:
    before = fingerprint(db)
    hard = tmp_path / "other-name.csv"
    os.link(db, hard)  # same inode, different path
    r = crm_cli("export", "customers", "--db", str(db), "--out", str(hard))
    assert r.code == 1 and "live database" in r.err
    link = tmp_path / "link.csv"
    link.symlink_to(key_path(db))
    r = crm_cli("export", "customers", "--db", str(db), "--out", str(link))
    assert r.code == 1 and "key file" in r.err
    assert_intact(db, before)


def test_backup_refuses_the_key_file_even_with_force(db: Path) -> None:
    before = fingerprint(db)
    r = crm_cli("backup", str(key_path(db)), "--force", "--db", str(db))
    assert r.code == 1 and "key file" in r.err
    r = crm_cli("backup", str(db.with_name(db.name + "-wal")), "--force", "--db", str(db))
    assert r.code == 1
    assert_intact(db, before)


def test_rejects_refuses_the_database_and_the_input(db: Path, tmp_path: Path) -> None:
    before = fingerprint(db)
    src = bad_csv(tmp_path / "f.csv")
    source_bytes = src.read_bytes()
    r = crm_cli("import", "customers", str(src), "--rejects", str(db), "--db", str(db))
    assert r.code == 1 and "live database" in r.err
    r = crm_cli("import", "customers", str(src), "--rejects", str(src), "--db", str(db))
    assert r.code == 1 and "file being read" in r.err
    assert src.read_bytes() == source_bytes
    assert_intact(db, before)  # refused before any row was stored


def test_rejects_file_is_new_0600_and_defused(db: Path, tmp_path: Path) -> None:
    src = bad_csv(tmp_path / "f.csv")
    out = tmp_path / "f.csv.rejects.csv"
    out.write_text("old content\n")
    out.chmod(0o644)
    r = crm_cli("import", "customers", str(src), "--db", str(db))
    assert r.code == 1  # one row rejected
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    with out.open(encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.reader(fh))
    assert lines[0][: len(HEADERS_ZH)] == HEADERS_ZH
    assert lines[1][0] == "'=HYPERLINK(\"http://evil\")"
    assert "old content" not in out.read_text(encoding="utf-8-sig")


def test_a_symlinked_rejects_file_is_replaced_not_followed(db: Path, tmp_path: Path) -> None:
    src = bad_csv(tmp_path / "f.csv")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "f.csv.rejects.csv"
    link.symlink_to(victim)
    r = crm_cli("import", "customers", str(src), "--db", str(db))
    assert r.code == 1
    assert victim.read_text() == "keep me"
    assert not link.is_symlink() and oct(link.stat().st_mode & 0o777) == "0o600"


def test_export_replaces_an_old_wide_file_and_a_link(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("x")
    out.chmod(0o644)
    assert crm_cli("export", "customers", "--db", str(db), "--out", str(out)).code == 0
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "l.csv"
    link.symlink_to(victim)
    assert crm_cli("export", "customers", "--db", str(db), "--out", str(link)).code == 0
    assert victim.read_text() == "keep me" and not link.is_symlink()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_key_rotation_archive_refuses_the_database(db: Path) -> None:
    before = fingerprint(db)
    r = crm_cli("keys", "rotate", "--archive-old-keys", str(db), "--db", str(db))
    assert r.code == 1 and "live database" in r.err
    assert sql(db, "PRAGMA integrity_check") == [("ok",)]
    assert db.read_bytes()[:100] == before[0]


def test_safe_files_unit(tmp_path: Path) -> None:
    keep = tmp_path / "keep"
    keep.write_text("k")
    guard = [safe_files.Protected(keep, "input")]
    with pytest.raises(safe_files.UnsafeOutput) as err:
        safe_files.write_text(keep, "x", guard)
    assert err.value.key == "safe_files.error.input" and err.value.params["path"] == str(keep)
    with pytest.raises(safe_files.UnsafeOutput):
        safe_files.write_text(tmp_path / "no" / "dir", "x")
    with pytest.raises(RuntimeError), safe_files.atomic_output(tmp_path / "half") as fh:
        fh.write("partial")
        raise RuntimeError
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep"]  # nothing half-written
    old = os.umask(0)
    try:
        path = safe_files.write_text(tmp_path / "new", "x")
    finally:
        os.umask(old)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert safe_files.defuse("＝1+1") == "'＝1+1" and safe_files.defuse(5) == 5

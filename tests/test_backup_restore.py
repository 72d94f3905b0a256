"""`crm backup` / `crm restore`: online, consistent, ciphertext only, checked, audited."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.cli_support import add_org, copy_db, crm_cli, init_db, key_path, open_db, sql
from tests.customer_files import rows, write_csv


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("backup")
    db = init_db(base / "crm.db")
    add_org(db)
    assert crm_cli("import", "customers", str(write_csv(base / "a.csv", rows(50))), "--db",
                   str(db)).code == 0
    return db


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    return copy_db(template, tmp_path / "live")


@pytest.fixture(autouse=True)
def _live_dir(tmp_path: Path) -> None:
    (tmp_path / "live").mkdir()


def national_ids(db: Path) -> list[str]:
    crm = open_db(db)
    try:
        return [crm.keys.decrypt("national_id", e) or "" for (e,) in
                sql(db, "SELECT national_id_enc FROM customer")]
    finally:
        crm.db.dispose()


def test_backup_is_consistent_ciphertext_only_and_records_itself(db: Path, tmp_path: Path) -> None:
    extra = write_csv(tmp_path / "b.csv", rows(5, start=1000))
    assert crm_cli("import", "customers", str(extra), "--db", str(db)).code == 0
    # Another session stays open (as the app would) with a commit still in the WAL only.
    session = sqlite3.connect(db, isolation_level=None)
    session.execute("INSERT INTO branch (code, name, region) VALUES ('WAL1', '仅在日志中', '')")
    assert (db.parent / "crm.db-wal").stat().st_size > 0
    session.execute("BEGIN")
    session.execute("SELECT count(*) FROM customer").fetchone()  # and is reading right now
    out = tmp_path / "backup.db"
    r = crm_cli("backup", str(out), "--db", str(db))
    session.close()
    assert r.code == 0, r.err
    assert "55 customers" in r.out and "key file" in r.err
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert not Path(f"{out}-wal").exists() and not (tmp_path / "backup.db.key").exists()
    assert sql(out, "PRAGMA integrity_check") == [("ok",)]
    assert sql(out, "SELECT count(*) FROM customer") == [(55,)]
    assert sql(out, "SELECT name FROM branch WHERE code = 'WAL1'") == [("仅在日志中",)]
    assert sql(out, "SELECT action FROM audit_event ORDER BY id DESC LIMIT 1") == [("db.backup",)]
    data = out.read_bytes()
    for nid in national_ids(db):
        assert nid.encode() not in data
    beside = tmp_path / "backup.db.key"
    shutil.copyfile(key_path(db), beside)  # the legacy place still works, with a warning
    beside.chmod(0o644)
    wide = crm_cli("audit", "verify", "--db", str(out))
    assert wide.code == 1 and "chmod 600" in wide.err and len(wide.err.strip().splitlines()) == 1
    beside.chmod(0o600)
    ok = crm_cli("audit", "verify", "--db", str(out))
    assert ok.code == 0 and "move it to" in ok.err

    again = crm_cli("backup", str(out), "--db", str(db))
    assert again.code == 1 and "exists" in again.err
    assert crm_cli("backup", str(out), "--force", "--db", str(db)).code == 0


def test_restore_replaces_keeps_a_copy_and_audits(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "backup.db"
    assert crm_cli("backup", str(out), "--db", str(db)).code == 0
    later = write_csv(tmp_path / "later.csv", rows(7, start=2000))
    assert crm_cli("import", "customers", str(later), "--db", str(db)).code == 0
    assert sql(db, "SELECT count(*) FROM customer") == [(57,)]

    cancelled = crm_cli("restore", str(out), "--db", str(db), input="n\n")
    assert cancelled.code == 1 and "cancelled" in cancelled.err
    assert sql(db, "SELECT count(*) FROM customer") == [(57,)]

    r = crm_cli("restore", str(out), "--yes", "--db", str(db))
    assert r.code == 0, r.err
    assert sql(db, "SELECT count(*) FROM customer") == [(50,)]
    kept = db.parent / "crm.db.before-restore"
    assert "before-restore" in r.out and sql(kept, "SELECT count(*) FROM customer") == [(57,)]
    assert sql(db, "SELECT action FROM audit_event ORDER BY id DESC LIMIT 2") == [
        ("db.restore",), ("db.backup",)]
    assert crm_cli("audit", "verify", "--db", str(db)).code == 0
    assert len(national_ids(db)) == 50  # still readable with the key file


def test_restore_refuses_what_it_cannot_trust(db: Path, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert "not a SQLite database" in crm_cli("restore", str(text), "-y", "--db", str(db)).err
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    assert "not a crm database" in crm_cli("restore", str(other), "-y", "--db", str(db)).err

    future = tmp_path / "future.db"
    assert crm_cli("backup", str(future), "--db", str(db)).code == 0
    sql(future, "UPDATE alembic_version SET version_num = '9999_from_the_future'")
    before = sql(db, "SELECT count(*) FROM audit_event")
    r = crm_cli("restore", str(future), "-y", "--db", str(db))
    assert r.code == 1 and "9999_from_the_future" in r.err

    (tmp_path / "foreign").mkdir()
    foreign_db = init_db(tmp_path / "foreign" / "crm.db")  # another install, another key
    add_org(foreign_db)
    assert crm_cli("import", "customers", str(write_csv(tmp_path / "f.csv", rows(2))), "--db",
                   str(foreign_db)).code == 0
    r = crm_cli("restore", str(foreign_db), "-y", "--db", str(db))
    assert r.code == 1 and "restore the matching key file first" in r.err
    before_restore = db.parent / "crm.db.before-restore"
    assert not before_restore.exists()
    assert sql(db, "SELECT count(*) FROM audit_event") == before


def test_postgres_is_told_to_use_pg_dump(tmp_path: Path) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    for args in (("backup", str(tmp_path / "x.db")), ("restore", str(tmp_path / "x.db"), "-y")):
        r = crm_cli(*args, "--db", url)
        assert r.code == 1 and "pg_dump" in r.err
        assert len(r.err.strip().splitlines()) == 1

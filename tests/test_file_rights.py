"""File rights and the key (issue 7): database, WAL, SHM, backups and restores are 0600; the key
lives in the config dir apart from the data; a key readable by others is refused."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from tests.cli_support import add_org, crm_cli, init_db, key_path, sql
from tests.customer_files import rows, write_csv


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    old = os.umask(0o022)  # a usual desktop umask: what SQLite alone would give 0644
    try:
        (tmp_path / "data").mkdir()
        path = init_db(tmp_path / "data" / "x.db")
        add_org(path)
    finally:
        os.umask(old)
    return path


def test_database_wal_and_shm_are_private(db: Path, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        keep = sqlite3.connect(db)  # holds the WAL and SHM open while the CLI writes
        keep.execute("SELECT count(*) FROM staff").fetchone()
        assert crm_cli("import", "customers", str(write_csv(tmp_path / "a.csv", rows(5))),
                       "--db", str(db)).code == 0
        for suffix in ("", "-wal", "-shm"):
            f = db.with_name(db.name + suffix)
            assert f.exists() and mode(f) == 0o600, suffix
        keep.close()
    finally:
        os.umask(old)


def test_an_old_wide_database_is_narrowed_when_opened(db: Path) -> None:
    db.chmod(0o644)
    assert crm_cli("users", "list", "--db", str(db)).code == 0
    assert mode(db) == 0o600


def test_key_lives_apart_and_wide_rights_are_refused(db: Path) -> None:
    key = key_path(db)
    assert key.exists() and not db.with_name(db.name + ".key").exists()
    assert db.parent not in key.parents and mode(key) == 0o600
    key.chmod(0o640)
    r = crm_cli("users", "list", "--db", str(db))
    assert r.code == 1 and len(r.err.strip().splitlines()) == 1 and "chmod 600" in r.err
    key.chmod(0o600)
    # CRM_KEY_FILE still wins
    moved = db.parent / "elsewhere.key"
    shutil.copyfile(key, moved)
    moved.chmod(0o600)
    key.unlink()
    assert crm_cli("users", "list", "--db", str(db)).code == 1
    os.environ["CRM_KEY_FILE"] = str(moved)
    try:
        assert crm_cli("users", "list", "--db", str(db)).code == 0
    finally:
        del os.environ["CRM_KEY_FILE"]


def test_restore_to_a_new_path_says_how_to_bring_the_key(db: Path, tmp_path: Path) -> None:
    backup = tmp_path / "b.db"
    assert crm_cli("backup", str(backup), "--db", str(db)).code == 0
    assert mode(backup) == 0o600
    fresh = tmp_path / "new" / "crm.db"
    fresh.parent.mkdir()
    r = crm_cli("restore", str(backup), "-y", "--db", str(fresh))
    assert r.code == 1 and "restore needs the backup's key" in r.err
    assert str(key_path(fresh)) in r.err and not fresh.exists()
    target_key = key_path(fresh)
    target_key.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(key_path(db), target_key)
    target_key.chmod(0o600)
    old = os.umask(0o022)
    try:
        r = crm_cli("restore", str(backup), "-y", "--db", str(fresh))
    finally:
        os.umask(old)
    assert r.code == 0, r.err
    assert "restored database opens with the key" in r.err
    assert mode(fresh) == 0o600
    assert sql(fresh, "SELECT count(*) FROM staff")[0][0] >= 4

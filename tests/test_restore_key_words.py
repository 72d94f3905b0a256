"""Issue 8 (language) and issue 7: a missing key is said in the user's language, with how
to bring it; `crm restore` onto a database that has no key says so before anything else."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from crm_tui import i18n
from tests.cli_support import copy_db, crm_cli, init_db, key_path


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return init_db(tmp_path_factory.mktemp("restore_key") / "crm.db")


@pytest.fixture
def backup(template: Path, tmp_path: Path) -> Path:
    db = copy_db(template, tmp_path)
    out = tmp_path / "backup.db"
    assert crm_cli("backup", str(out), "--db", str(db)).code == 0
    return out


def test_restore_onto_an_existing_file_without_its_key_says_how_to_bring_it(
        backup: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.db"
    sqlite3.connect(target).close()  # an empty file someone made first
    i18n.set_language("zh_CN")
    r = crm_cli("restore", str(backup), "--db", str(target), "--yes")
    assert r.code != 0
    assert "恢复需要该备份的密钥" in r.err and str(key_path(target)) in r.err
    assert "does not exist" not in r.err and "Traceback" not in r.err


def test_restore_onto_a_new_path_without_its_key_says_how_to_bring_it(
        backup: Path, tmp_path: Path) -> None:
    target = tmp_path / "new.db"
    r = crm_cli("restore", str(backup), "--db", str(target), "--yes")
    assert r.code != 0 and not target.exists()
    assert "copy the key file" in r.err.lower() and str(key_path(target)) in r.err


def test_a_missing_key_is_said_in_the_users_language(template: Path, tmp_path: Path) -> None:
    db = copy_db(template, tmp_path)
    key_path(db).unlink()
    i18n.set_language("zh_CN")
    r = crm_cli("users", "list", "--db", str(db))
    assert r.code != 0
    assert "找不到密钥文件" in r.err and "chmod 600" in r.err
    assert "does not exist" not in r.err and "run `crm init`" not in r.err

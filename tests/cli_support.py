"""Running `crm` in-process for tests, and a ready database made by `crm init`."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from crm_tui.domain.admin import org, staff
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.kernel.context import Crm, open_crm

ADMIN_PASSWORD = "admin-pass-1"
STAFF_PASSWORD = "staff-pass-1"


@dataclass
class Result:
    code: int
    out: str
    err: str


def crm_cli(*args: str, input: str | None = None) -> Result:
    """`crm ARGS…` through the real command group (one error handler included)."""
    from crm_tui.cli import build_app

    result = CliRunner().invoke(build_app(), list(args), input=input, prog_name="crm")
    return Result(result.exit_code, result.stdout, result.stderr)


def init_db(path: Path) -> Path:
    r = crm_cli("init", "--db", str(path), "--admin-password-stdin", input=ADMIN_PASSWORD + "\n")
    assert r.code == 0, r.err
    return path


def open_db(path: Path) -> Crm:
    return open_crm(str(path))


def add_org(path: Path) -> None:
    """Two branches, a team each, and RMs: rm1 (BJ01), rm2 (SH01), a disabled rm3, comp1."""
    crm = open_db(path)
    try:
        actor = system_actor("test")
        org.add_branch(crm, actor, "BJ01", "北京分行营业部", "华北")
        org.add_branch(crm, actor, "SH01", "上海浦东支行", "华东")
        org.add_team(crm, actor, "财富一组", "BJ01")
        org.add_team(crm, actor, "浦东一组", "SH01")
        staff.add_user(crm, actor, "rm1", "王芳", "rm", STAFF_PASSWORD, "BJ01", "财富一组")
        staff.add_user(crm, actor, "rm2", "孙丽", "rm", STAFF_PASSWORD, "SH01", "浦东一组")
        staff.add_user(crm, actor, "rm3", "赵磊", "rm", STAFF_PASSWORD, "BJ01", "财富一组")
        staff.disable_user(crm, actor, "rm3")
        staff.add_user(crm, actor, "comp1", "黄磊", "compliance", STAFF_PASSWORD, "BJ01")
    finally:
        crm.db.dispose()


def key_path(db: Path) -> Path:
    """Where `crm` finds the key of the SQLite database `db` (config dir, or legacy beside)."""
    from crm_tui.domain.kernel.context import key_file_for
    from crm_tui.settings import get_settings

    return key_file_for(f"sqlite:///{db.resolve()}", get_settings())


def copy_db(template: Path, dest_dir: Path) -> Path:
    """A private copy of a prepared database and its key (faster than `crm init` per test)."""
    import shutil

    dest = dest_dir / template.name
    conn = sqlite3.connect(template)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    shutil.copyfile(template, dest)
    dest.chmod(0o600)
    key = key_path(dest)
    key.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(key_path(template), key)
    key.chmod(0o600)
    return dest


def sql(path: Path, statement: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        return conn.execute(statement, params).fetchall()
    finally:
        conn.close()


def file_bytes(path: Path) -> bytes:
    """The database file and its WAL, as bytes (for "no plaintext anywhere" checks)."""
    data = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        data += wal.read_bytes()
    return data

"""`crm demo`: a seeded database, the logins printed, then the TUI (unless --no-tui)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_tui import cli
from crm_tui.domain.admin.auth import login
from tests.cli_support import crm_cli, open_db, sql


def test_demo_seeds_once_prints_logins_and_starts_the_tui(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[str | None] = []
    monkeypatch.setattr(cli, "start_tui", started.append)
    db = tmp_path / "demo.db"
    r = crm_cli("demo", "--db", str(db), "--customers", "60", "--password", "demo-pass-9")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert any(ln.split()[:1] == ["rm1"] and "demo-pass-9" in ln for ln in lines)
    assert any(ln.split()[:1] == ["admin"] for ln in lines)
    assert sql(db, "SELECT count(*) FROM customer") == [(60,)]
    crm = open_db(db)
    try:
        assert login(crm, "rm1", "demo-pass-9").role == "rm"
    finally:
        crm.db.dispose()
    assert started == [f"sqlite:///{db}"]

    again = crm_cli("demo", "--db", str(db), "--no-tui")
    assert again.code == 0 and "not seeding again" in again.out
    assert sql(db, "SELECT count(*) FROM customer") == [(60,)]
    assert len(started) == 1


def test_demo_refuses_a_short_password_before_creating_anything(tmp_path: Path) -> None:
    r = crm_cli("demo", "--db", str(tmp_path / "d.db"), "--password", "short", "--no-tui")
    assert r.code == 1 and "at least 8 characters" in r.err
    assert list(tmp_path.iterdir()) == []

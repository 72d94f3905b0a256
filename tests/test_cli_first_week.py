"""Issue 8, the CLI: the global --db everywhere, -o, the shipped policy without a
database, Click's words translated, a second demo still prints the logins."""

from __future__ import annotations

from pathlib import Path

from crm_tui.i18n import set_language
from tests.cli_support import add_org, crm_cli, init_db


def test_global_db_reaches_every_subcommand(tmp_path: Path) -> None:
    db = init_db(tmp_path / "crm.db")
    add_org(db)
    r = crm_cli("--db", str(db), "users", "list")
    assert r.code == 0, r.err
    assert "rm1" in r.out and "comp1" in r.out


def test_policy_show_default_needs_no_database(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CRM_DATABASE_URL", f"sqlite:///{tmp_path / 'missing.db'}")
    r = crm_cli("policy", "show", "--default")
    assert r.code == 0, r.err
    assert "[approvals]" in r.out


def test_out_has_a_short_form(tmp_path: Path) -> None:
    r = crm_cli("export", "customers", "--help")
    assert "-o" in r.out


def test_click_words_are_translated() -> None:
    set_language("zh_CN")
    try:
        r = crm_cli("users", "list", "--bogus")
        assert r.code == 2
        assert "没有选项" in r.err + r.out
        assert "显示本帮助并退出" in crm_cli("users", "--help").out
    finally:
        set_language("en")


def test_a_second_demo_prints_the_logins_again(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    first = crm_cli("demo", "--db", str(db), "--customers", "5", "--no-tui")
    assert first.code == 0, first.err
    second = crm_cli("demo", "--db", str(db), "--no-tui")
    assert second.code == 0, second.err
    assert "rm1" in second.out and "sup1" in second.out

"""`crm init`, `crm db`, `crm users|branches|teams`, `crm policy`, and the one error handler."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from crm_tui import cli
from crm_tui.domain.admin import staff
from crm_tui.domain.admin.auth import login
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.kernel.context import open_crm
from crm_tui.store.migrate import current_revision, head_revision, upgrade
from tests.cli_support import (
    ADMIN_PASSWORD,
    STAFF_PASSWORD,
    add_org,
    copy_db,
    crm_cli,
    init_db,
    key_path,
    open_db,
    sql,
)


def test_init_creates_key_schema_and_admin(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    r = crm_cli("init", "--db", str(db), "--admin-password-stdin", input=ADMIN_PASSWORD + "\n")
    assert r.code == 0, r.err
    assert "log in as admin" in r.out
    key = key_path(db)
    assert key.parent != db.parent  # the key lives apart from the data
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    crm = open_db(db)
    assert current_revision(crm.db.read_engine) == head_revision()
    assert login(crm, "admin", ADMIN_PASSWORD).role == "admin"
    crm.db.dispose()
    actions = [a for (a,) in sql(db, "SELECT action FROM audit_event ORDER BY id")]
    assert actions[:2] == ["db.init", "staff.add"]

    again = crm_cli("init", "--db", str(db), "--admin-password-stdin", input="other-pass-9\n")
    assert again.code == 0 and "already initialised" in again.out
    assert sql(db, "SELECT count(*) FROM staff") == [(1,)]


def test_init_prompts_twice_for_the_password(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    r = crm_cli("init", "--db", str(db), input=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n")
    assert r.code == 0, r.err
    crm = open_db(db)
    assert login(crm, "admin", ADMIN_PASSWORD).username == "admin"
    crm.db.dispose()


def test_init_refuses_a_new_key_for_an_existing_database(tmp_path: Path) -> None:
    db = init_db(tmp_path / "crm.db")
    key = key_path(db)
    key.rename(tmp_path / "elsewhere.key")
    r = crm_cli("init", "--db", str(db), "--admin-password-stdin", input=ADMIN_PASSWORD + "\n")
    assert r.code == 1
    assert "key file" in r.err and "missing" in r.err
    assert not key.exists()


def test_short_admin_password_is_one_clear_line(tmp_path: Path) -> None:
    r = crm_cli("init", "--db", str(tmp_path / "crm.db"), "--admin-password-stdin", input="short\n")
    assert r.code == 1
    assert r.err.strip().count("\n") == 0
    assert list(tmp_path.iterdir()) == []  # neither a key nor an empty database left behind
    assert "at least 8 characters" in r.err
    assert "Traceback" not in r.err + r.out


def test_db_upgrade_brings_an_old_database_forward(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    crm = open_crm(str(db), create_key=True)
    upgrade(crm.db.write_engine, "0001")
    crm.db.dispose()
    status = crm_cli("db", "status", "--db", str(db))
    assert status.code == 1 and "schema 0001" in status.out
    refused = crm_cli("users", "list", "--db", str(db))
    assert refused.code == 1 and "crm db upgrade" in refused.err
    r = crm_cli("db", "upgrade", "--db", str(db))
    assert r.code == 0, r.err
    assert f"from 0001 to {head_revision()}" in r.out
    assert sql(db, "SELECT version_num FROM alembic_version") == [(head_revision(),)]
    assert "already at the latest" in crm_cli("db", "upgrade", "--db", str(db)).out


def test_missing_and_uninitialised_databases(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    r = crm_cli("users", "list", "--db", str(missing))
    assert r.code == 1 and "crm init" in r.err
    assert not missing.exists()  # no empty file left behind by a typo


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = init_db(tmp_path_factory.mktemp("template") / "crm.db")
    add_org(path)
    return path


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    return copy_db(template, tmp_path)


def test_users_lifecycle(db: Path) -> None:
    r = crm_cli("users", "add", "sup1", "--name", "陈静", "--role", "supervisor", "--branch", "BJ01",
                "--team", "财富一组", "--password-stdin", "--db", str(db), input=STAFF_PASSWORD + "\n")
    assert r.code == 0, r.err
    listed = json.loads(crm_cli("users", "list", "--json", "--db", str(db)).out)
    sup = next(u for u in listed if u["username"] == "sup1")
    assert (sup["display_name"], sup["role"], sup["branch"], sup["team"], sup["active"]) == (
        "陈静", "supervisor", "BJ01", "财富一组", True)
    table = crm_cli("users", "list", "--db", str(db)).out
    assert "陈静" in table and "Supervisor" in table

    assert crm_cli("users", "set-role", "sup1", "branch_head", "--db", str(db)).code == 0
    assert crm_cli("users", "passwd", "sup1", "--password-stdin", "--db", str(db),
                   input="new-password-2\n").code == 0
    crm = open_db(db)
    assert login(crm, "sup1", "new-password-2").role == "branch_head"
    crm.db.dispose()
    assert crm_cli("users", "disable", "sup1", "--db", str(db)).code == 0
    assert sql(db, "SELECT active FROM staff WHERE username='sup1'") == [(0,)]
    actions = [a for (a,) in sql(db, "SELECT action FROM audit_event WHERE entity='staff' "
                                     "ORDER BY id DESC LIMIT 3")]
    assert actions == ["staff.disable", "auth.login", "staff.passwd"]


@pytest.mark.parametrize(("args", "message"), [
    (("users", "add", "x1", "--name", "X", "--role", "boss"), "“boss” is not a role"),
    (("users", "add", "x1", "--name", "X", "--role", "rm", "--branch", "ZZ99"), "no branch with code ZZ99"),
    (("users", "add", "rm1", "--name", "X", "--role", "rm"), "rm1 is already taken"),
    (("users", "add", "X 1", "--name", "X", "--role", "rm"), "lower-case letters"),
    (("users", "disable", "ghost"), "No staff member named ghost"),
    (("users", "passwd", "ghost", "--password-stdin"), "No staff member named ghost"),
    (("users", "set-role", "rm1", "king"), "“king” is not a role"),
    (("branches", "add", "BJ01", "重复"), "branch BJ01 already exists"),
    (("branches", "add", "北京", "x"), "is not a branch code"),
    (("teams", "add", "财富一组", "--branch", "BJ01"), "already has a team named 财富一组"),
    (("teams", "add", "新组", "--branch", "XX01"), "no branch with code XX01"),
])
def test_bad_input_is_one_line_and_changes_nothing(db: Path, args: tuple[str, ...], message: str) -> None:
    before = sql(db, "SELECT count(*) FROM audit_event")
    stdin = ("--password-stdin",) if args[:2] == ("users", "add") else ()
    r = crm_cli(*args, *stdin, "--db", str(db), input=STAFF_PASSWORD + "\n")
    assert r.code == 1, r
    assert message in r.err
    assert len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err
    assert sql(db, "SELECT count(*) FROM audit_event") == before


def test_usage_errors_exit_2_with_one_line(db: Path) -> None:
    for args in (("users", "add"), ("users", "list", "--bogus"), ("frobnicate",),
                 ("audit", "log", "--limit", "zero")):
        r = crm_cli(*args, "--db", str(db))
        assert r.code == 2, (args, r)
        assert len(r.err.strip().splitlines()) == 1 and "--help" in r.err


def test_every_command_has_help() -> None:
    paths = [(), ("init",), ("demo",), ("backup",), ("restore",), ("db", "upgrade"), ("db", "status"),
             ("users", "add"), ("users", "list"), ("users", "disable"), ("users", "passwd"),
             ("users", "set-role"), ("branches", "add"), ("branches", "list"), ("teams", "add"),
             ("teams", "list"), ("audit", "verify"), ("audit", "log"), ("policy", "show"),
             ("policy", "validate"), ("policy", "apply"), ("keys", "status"), ("keys", "rotate"),
             ("import", "customers"), ("export", "customers")]
    for path in paths:
        r = crm_cli(*path, "--help")
        assert r.code == 0, (path, r)
        assert "Usage" in r.out
        if path and path[0] not in ("policy",) and path != ("db", "status"):
            assert "--db" in r.out or path == ("demo",), path


def test_branches_and_teams_listing(db: Path) -> None:
    assert crm_cli("branches", "add", "gz01", "广州天河支行", "--region", "华南", "--db", str(db)).code == 0
    assert crm_cli("teams", "add", "天河一组", "--branch", "GZ01", "--db", str(db)).code == 0
    branches = json.loads(crm_cli("branches", "list", "--json", "--db", str(db)).out)
    assert {b["code"]: (b["teams"], b["staff"]) for b in branches} == {
        "BJ01": (1, 3), "SH01": (1, 1), "GZ01": (1, 0)}
    teams = json.loads(crm_cli("teams", "list", "--branch", "gz01", "--json", "--db", str(db)).out)
    assert [(x["name"], x["branch_code"]) for x in teams] == [("天河一组", "GZ01")]
    assert ("branch.add", "branch") in sql(db, "SELECT action, entity FROM audit_event")


def test_policy_show_validate_apply(db: Path, tmp_path: Path) -> None:
    shown = crm_cli("policy", "show", "--db", str(db))
    assert shown.code == 0 and "[kyc.individual]" in shown.out
    bad = tmp_path / "bad.toml"
    bad.write_text(shown.out.replace('value = "C1"', 'value = "C9"'), encoding="utf-8")
    r = crm_cli("policy", "validate", str(bad))
    assert r.code == 1 and "tag_rules[2]" in r.err and "C1" in r.err
    assert crm_cli("policy", "apply", str(bad), "--db", str(db)).code == 1
    good = tmp_path / "good.toml"
    good.write_text(shown.out.replace("value = 6000000", "value = 5000000"), encoding="utf-8")
    assert crm_cli("policy", "validate", str(good)).code == 0
    applied = crm_cli("policy", "apply", str(good), "--db", str(db))
    # applying opens a request; the policy changes only when compliance approves it
    assert applied.code == 0 and "approv" in applied.out.lower()
    assert "value = 6000000" in crm_cli("policy", "show", "--db", str(db)).out
    assert sql(db, "SELECT kind, status FROM approval_request") == [("policy_change", "pending")]
    missing = crm_cli("policy", "validate", str(tmp_path / "nope.toml"))
    assert missing.code == 1 and "nope.toml" in missing.err


def test_no_arguments_starts_the_tui(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[str | None] = []
    monkeypatch.setattr(cli, "start_tui", calls.append)
    assert crm_cli().code == 0
    assert crm_cli("--db", str(tmp_path / "x.db")).code == 0
    assert calls == [None, str(tmp_path / "x.db")]
    assert cli._tui_only([]) is None
    assert cli._tui_only(["--db", "a.db"]) == "a.db"
    assert cli._tui_only(["--db=a.db"]) == "a.db"
    assert cli._tui_only(["users", "list"]) is False


def test_domain_errors_from_staff_module_reach_the_cli_unchanged(db: Path) -> None:
    crm = open_db(db)
    with pytest.raises(Exception) as info:
        staff.set_role(crm, system_actor(), "rm1", "nope")
    crm.db.dispose()
    r = crm_cli("users", "set-role", "rm1", "nope", "--db", str(db))
    assert str(info.value) in r.err


def test_database_url_from_the_environment(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_DATABASE_URL", f"sqlite:///{db}")
    r = crm_cli("users", "list", "--json")
    assert r.code == 0, r.err
    assert "rm1" in {u["username"] for u in json.loads(r.out)}


def test_messages_follow_the_language(db: Path) -> None:
    from crm_tui import i18n

    i18n.set_language("zh_CN")
    r = crm_cli("users", "disable", "ghost", "--db", str(db))
    assert r.code == 1
    assert r.err.strip() == "crm：没有名为 ghost 的员工。"
    r = crm_cli("branches", "add", "BJ01", "重复", "--db", str(db))
    assert r.err.strip().startswith("crm：网点") and r.err.strip().endswith("网点 BJ01 已存在")


def test_the_cli_does_not_load_textual() -> None:
    import subprocess
    import sys

    code = ("import sys; from crm_tui.cli import build_app; build_app(); "
            "print('textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

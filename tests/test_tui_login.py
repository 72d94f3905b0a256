"""Sign in, wrong passwords, lockout, the idle lock and signing out — on screen and in the
audit log."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from crm_tui.app import CrmApp
from crm_tui.domain.kernel.context import Crm
from crm_tui.screens.lock import LockScreen
from crm_tui.screens.login import LoginScreen
from crm_tui.screens.main import MainScreen
from crm_tui.store.crypto import Keyring
from crm_tui.store.db import Database
from crm_tui.store.models import AuditEvent, Staff
from crm_tui.store.types import utcnow
from tests.conftest import World
from tests.tui_support import new_app, screen_text, settle, sign_in, text_of


def _actions(crm: Crm) -> list[str]:
    with crm.db.read() as s:
        return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_app_module_imports_no_database_code() -> None:
    """The login screen must not wait for SQLAlchemy: importing the app loads none of it."""
    code = ("import sys, crm_tui.app\n"
            "heavy = [m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'sqlmodel')"
            " or m.startswith('crm_tui.domain') or m.startswith('crm_tui.store')]\n"
            "print(','.join(sorted(heavy)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


async def test_sign_in_shows_who_is_working(sqlite_crm: Crm, sqlite_world: World) -> None:
    app = new_app(sqlite_crm)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.started_ms is not None
        await sign_in(pilot, "rm1")
        assert isinstance(app.screen, MainScreen)
        text = screen_text(app)
        assert "王芳 · Relationship manager · 北京分行营业部 / 财富一组" in text
        assert "Customers" in text
    assert "auth.login" in _actions(sqlite_crm)


async def test_username_given_on_start_is_filled_in(sqlite_crm: Crm, sqlite_world: World) -> None:
    app = CrmApp(sqlite_crm, username="rm1")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.screen.query_one("#username").value == "rm1"
        assert app.focused is app.screen.query_one("#password")


async def test_a_store_that_cannot_be_read_is_reported(tmp_path: Path) -> None:
    crm = Crm(Database(f"sqlite:///{tmp_path / 'never-initialised.db'}"), Keyring.generate())
    app = new_app(crm)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "rm1")
        assert isinstance(app.screen, LoginScreen)
        assert "Cannot open the CRM database" in text_of(app, "#login-error")
        assert "no such table" in text_of(app, "#login-error")


async def test_wrong_password_then_lockout(sqlite_crm: Crm, sqlite_world: World) -> None:
    app = new_app(sqlite_crm)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "rm2", "not the password")
        assert isinstance(app.screen, LoginScreen)
        assert "Wrong user name or password." in screen_text(app)
        assert app.screen.query_one("#password").value == ""
        with sqlite_crm.db.write() as s:  # three more failures, as if typed earlier
            s.execute(update(Staff).where(Staff.username == "rm2").values(failed_logins=4))
        await sign_in(pilot, "rm2", "still wrong")
        assert "the account is locked until" in text_of(app, "#login-error")
        await sign_in(pilot, "rm2")  # the right password no longer helps
        assert isinstance(app.screen, LoginScreen)
        assert "locked" in text_of(app, "#login-error")
    actions = _actions(sqlite_crm)
    assert actions.count("auth.login_failed") == 1
    assert "auth.locked" in actions and "auth.login_refused_locked" in actions


async def test_idle_lock_asks_for_the_same_password(sqlite_crm: Crm, sqlite_world: World) -> None:
    sqlite_crm.settings = sqlite_crm.settings.model_copy(update={"idle_lock_minutes": 0.02})
    app = new_app(sqlite_crm)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "rm1")
        assert app.session is not None
        for _ in range(50):  # 1.2 s without a key press, on a busy machine
            if isinstance(app.screen, LockScreen):
                break
            await pilot.pause(0.1)
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
        assert "Locked after a period without activity" in screen_text(app)
        sqlite_crm.settings = sqlite_crm.settings.model_copy(update={"idle_lock_minutes": 15})
        app.screen.query_one("#unlock-password").value = "wrong pw"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
        assert "Wrong user name or password." in screen_text(app)
        app.screen.query_one("#unlock-password").value = "correct horse"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert not app.locked
    actions = _actions(sqlite_crm)
    assert "auth.idle_lock" in actions
    assert actions[-1] == "auth.login"  # the unlock is a checked, audited login


async def test_ctrl_l_locks_and_sign_out_returns_to_login(sqlite_crm: Crm,
                                                          sqlite_world: World) -> None:
    app = new_app(sqlite_crm)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "rm1")
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
        assert "You locked the screen" in screen_text(app)
        await pilot.press("ctrl+p")  # the palette stays shut while locked
        assert isinstance(app.screen, LockScreen)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.session is None
        assert len(app.screen_stack) == 2
    actions = _actions(sqlite_crm)
    assert actions[-2:] == ["auth.manual_lock", "auth.logout"]  # issue 8: Ctrl+L is a manual lock


async def test_locked_account_on_the_lock_screen_signs_out(
        sqlite_crm: Crm, sqlite_world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LockScreen, "SIGN_OUT_DELAY", 2.0)
    app = new_app(sqlite_crm)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "rm1")
        app.lock(idle=True)
        await settle(pilot)
        with sqlite_crm.db.write() as s:
            s.execute(update(Staff).where(Staff.username == "rm1")
                      .values(locked_until=utcnow() + timedelta(minutes=30)))
        app.screen.query_one("#unlock-password").value = "correct horse"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "the account is locked until" in text_of(app, "#lock-error")
        assert app.screen.query_one("#unlock-password").disabled
        for _ in range(50):  # signed out after SIGN_OUT_DELAY
            if isinstance(app.screen, LoginScreen):
                break
            await pilot.pause(0.1)
        assert isinstance(app.screen, LoginScreen)
        assert app.session is None

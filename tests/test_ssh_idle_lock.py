"""The app's idle lock applies in an SSH session too: the key opened the session, but after
the idle minutes only the staff member's password gets the screen back."""

from __future__ import annotations

import asyncio

from crm_tui.domain.admin import preferences
from tests.conftest import PASSWORD
from tests.ssh_support import connect, gateway, new_key, open_terminal, register


async def test_an_ssh_session_locks_when_idle_and_the_password_unlocks_it(
        sqlite_crm, sqlite_world, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CRM_IDLE_LOCK_MINUTES", "0.05")  # 3 s; the gateway passes CRM_* on
    key = new_key()
    register(sqlite_crm, "rm1", key)
    preferences.set_language(sqlite_crm, sqlite_world["rm1"], "en")
    async with gateway(sqlite_crm, tmp_path) as gw, connect(gw, "rm1", key) as conn:
        term = await open_terminal(conn, 100, 30)
        await term.wait_for("Signed in", 60)
        await term.wait_for("Screen locked", 30)  # nobody typed: the app locked itself
        for _ in range(100):  # the footer's repaint may come in a later chunk than the title
            if "My day" not in term.text():
                break
            await asyncio.sleep(0.05)
        assert "My day" not in term.text()  # the lock hides what was underneath
        term.send("\r")  # nothing typed: still locked, and told what is missing
        await term.wait_for("Enter your password.", 20)
        assert "Screen locked" in term.text()
        term.send(PASSWORD)
        await asyncio.sleep(0.5)
        term.send("\r")
        await term.wait_for("My day", 60)  # unlocked: the main screen again
        for _ in range(100):  # and the lock's last lines repainted away
            if "Screen locked" not in term.text():
                break
            await asyncio.sleep(0.05)
        assert "Screen locked" not in term.text()

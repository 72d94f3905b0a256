"""The TUI's house rules: the user's keymap file, and an unexpected error anywhere in the TUI
shown as one line with an error id that the log holds with its traceback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from crm_tui import logs
from crm_tui.keymap import known_binding_ids, read_keymap
from crm_tui.screens.alert_list import AlertListPane
from crm_tui.screens.lock import LockScreen
from crm_tui.screens.main import MainScreen
from crm_tui.store.models import AuditEvent
from tests.tui_support import screen_text, settle, signed_in_app


@pytest.fixture
def log_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CRM_LOG_DIR", str(tmp_path / "logs"))
    logs.setup_logging()
    return tmp_path / "logs"


def _keymap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    path = tmp_path / "keymap.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("CRM_KEYMAP_FILE", str(path))
    return path


def recorded_notes(app) -> list[str]:  # type: ignore[no-untyped-def]
    """Every notification the app shows from now on, as its text (app.notify wrapped)."""
    notes: list[str] = []
    shown = app.notify

    def notify(message: str, **kwargs) -> None:  # type: ignore[no-untyped-def]
        notes.append(str(message))
        shown(message, **kwargs)

    app.notify = notify
    return notes


async def test_keymap_moves_a_pane_binding_and_the_lock(sqlite_crm, sqlite_world, tmp_path,
                                                       monkeypatch) -> None:
    """`alert-toggle` (the alert list's "all / open only") on k and the lock on ctrl+k: the
    new keys do the work, the old ones no longer do, the footer shows the new keys."""
    _keymap(tmp_path, monkeypatch, 'alert-toggle = "k"\nlock-screen = "ctrl+k"\n')
    crm, world = sqlite_crm, sqlite_world
    app = signed_in_app(crm, world, "risk1")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f4")
        await settle(pilot)
        pane = app.screen.query_one(AlertListPane)
        assert pane.show_all is False
        await pilot.press("o")  # the old key: nothing
        await settle(pilot)
        assert pane.show_all is False
        await pilot.press("k")
        await settle(pilot)
        assert pane.show_all is True
        footer = screen_text(app).splitlines()[-1]
        assert "k Open/all" in footer and "^k Lock" in footer and "o Open/all" not in footer
        await pilot.press("ctrl+l")  # the lock's old key: nothing
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        await pilot.press("ctrl+k")
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
    with crm.db.read() as s:
        actions = s.scalars(select(AuditEvent.action)).all()
    assert "auth.manual_lock" in actions


async def test_a_bad_keymap_is_one_line_each_and_the_rest_applies(
        sqlite_crm, sqlite_world, tmp_path, monkeypatch, log_dir) -> None:
    path = _keymap(tmp_path, monkeypatch,
                   'lock-screen = "f1"\nno-such-binding = "x"\nalert-clear = 5\n')
    app = signed_in_app(sqlite_crm, sqlite_world, "risk1")
    notes = recorded_notes(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert any(f"Keymap {path}: alert-clear = 5 is not a key" in n for n in notes)
        assert any(f"Keymap {path}: no binding is called no-such-binding" in n for n in notes)
        await pilot.press("f1")  # the good line still applies
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
    text = (log_dir / "crm.log").read_text(encoding="utf-8")
    assert "no binding is called no-such-binding" in text


def test_a_keymap_that_is_not_toml_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "keymap.toml"
    path.write_text('lock-screen = "ctrl+k\n', encoding="utf-8")
    keymap = read_keymap(path)
    assert keymap.bindings == {}
    assert len(keymap.problems) == 1 and "\n" not in keymap.problems[0]
    assert keymap.problems[0].startswith(f"Keymap {path} is not valid TOML")
    assert read_keymap(tmp_path / "absent.toml").problems == ()


def test_every_binding_id_is_unique_and_the_user_facing_ones_have_one() -> None:
    ids = known_binding_ids()
    assert {"lock-screen", "alert-clear", "alert-toggle", "area-alerts", "plist-export",
            "privacy-take", "logout"} <= ids


async def test_an_error_in_a_key_action_is_one_line_with_an_id_in_the_log(
        sqlite_crm, sqlite_world, monkeypatch, log_dir) -> None:
    """A bug behind one key: the user gets one line naming an error id; the log has the id
    and the traceback; the session goes on (the next key still works)."""
    def broken(self, *args) -> None:  # type: ignore[no-untyped-def]
        raise KeyError("missing-column")

    monkeypatch.setattr(AlertListPane, "action_toggle_all", broken)
    app = signed_in_app(sqlite_crm, sqlite_world, "risk1")
    notes = recorded_notes(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        found = [re.search(r"Unexpected error ([A-Z0-9]{8}) \(KeyError\)", n) for n in notes]
        ids = [m.group(1) for m in found if m]
        assert len(ids) == 1 and all("\n" not in n for n in notes)
        await pilot.press("ctrl+l")  # still alive: the lock works
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
    text = (log_dir / "crm.log").read_text(encoding="utf-8")
    assert f"error {ids[0]} in tui" in text
    assert "Traceback (most recent call last)" in text and "missing-column" in text


def test_an_error_that_stops_the_app_prints_one_line_and_logs_the_traceback(
        tmp_path: Path) -> None:
    """Outside actions (here a mount handler) Textual stops the app: the terminal gets one
    line with the error id, not a traceback with local variables; the log has both."""
    script = (
        "from pathlib import Path\n"
        "import crm_tui.app\n"
        "from crm_tui.app import CrmApp\n"
        "class Broken(CrmApp):\n"
        "    CSS_PATH = str(Path(crm_tui.app.__file__).with_name('app.tcss'))\n"
        "    def on_mount(self):\n"
        "        secret = '11010519800512003X'\n"
        "        raise RuntimeError('mount failed')\n"
        "Broken().run(headless=True)\n")
    env = {"PATH": "/usr/bin:/bin", "CRM_LOG_DIR": str(tmp_path / "logs"), "CRM_LANG": "en",
           "HOME": str(tmp_path)}
    (tmp_path / "broken_app.py").write_text(script, encoding="utf-8")
    done = subprocess.run([sys.executable, str(tmp_path / "broken_app.py")],
                          capture_output=True, text=True,
                          env=env, timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 70
    err = done.stderr.strip()
    found = re.fullmatch(r"crm stopped on unexpected error ([A-Z0-9]{8}); the details are in "
                         r"the log: (.+)", err)
    assert found is not None, err
    assert "11010519800512003X" not in done.stdout + done.stderr
    text = (tmp_path / "logs" / "crm.log").read_text(encoding="utf-8")
    assert f"error {found.group(1)} in tui (the app stopped)" in text
    assert "RuntimeError" in text and "mount failed" in text

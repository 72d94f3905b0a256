"""The language preference from the command palette: stored on the staff record."""

from __future__ import annotations

from crm_tui.domain.admin import preferences
from crm_tui.i18n import language
from tests.test_tui_palette import _palette
from tests.tui_support import settle, signed_in_app


async def test_palette_sets_the_language_preference(sqlite_crm, sqlite_world) -> None:
    app = signed_in_app(sqlite_crm, sqlite_world)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _palette(pilot, "中文", "Language: 中文")
        await pilot.press("enter")
        await settle(pilot)
        assert preferences.language_of(sqlite_crm, sqlite_world["rm1"]) == "zh_CN"
        assert language() == "zh_CN"
        await pilot.pause(0.1)
        assert any("语言已设为" in str(n.message) for n in app._notifications)

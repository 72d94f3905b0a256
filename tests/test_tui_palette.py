"""The command palette: customers by name as you type, and the commands for where you are."""

from __future__ import annotations

from textual.command import CommandInput, CommandPalette

from crm_tui.domain.kernel.context import Crm
from crm_tui.screens.interaction_form import InteractionForm
from crm_tui.screens.lock import LockScreen
from crm_tui.screens.main import MainScreen
from crm_tui.screens.profile import ProfileScreen
from tests.conftest import World
from tests.tui_support import build_book, screen_text, settle, signed_in_app


async def _palette(pilot, text: str, expect: str) -> str:  # type: ignore[no-untyped-def]
    """Open the palette, type `text`, and wait (up to 5 s) until `expect` is listed."""
    await pilot.press("ctrl+p")
    await settle(pilot)
    assert CommandPalette.is_open(pilot.app)
    pilot.app.screen.query_one(CommandInput).value = text  # one search, not one per key
    for _ in range(50):  # the palette gathers hits in its own tasks, not in workers
        await pilot.pause(0.1)
        if expect in screen_text(pilot.app):
            break
    await settle(pilot)
    return screen_text(pilot.app)


async def test_open_customer_from_the_palette(sqlite_crm: Crm, sqlite_world: World) -> None:
    book = build_book(sqlite_crm, sqlite_world)
    app = signed_in_app(sqlite_crm, sqlite_world)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        text = await _palette(pilot, "zs", "Open customer: 赵四")
        assert "Open customer: 张三" in text and "Open customer: 赵四" in text
        assert "王五" not in text
        await pilot.press("enter")  # the best hit
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        assert app.screen.customer_id in (book.zhang_san, book.zhao_si)

        text = await _palette(pilot, "log inter", "Log interaction…")
        assert "Log interaction…" in text
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InteractionForm)
        await pilot.press("escape")
        await settle(pilot)

        await _palette(pilot, "search cust", "Search customers")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.focused is app.screen.query_one("#search-input")

        await _palette(pilot, "lock scr", "Lock screen")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)


async def test_log_interaction_is_offered_only_on_a_profile(sqlite_crm: Crm,
                                                           sqlite_world: World) -> None:
    build_book(sqlite_crm, sqlite_world)
    app = signed_in_app(sqlite_crm, sqlite_world)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        text = await _palette(pilot, "", "Sign out")
        assert "Search customers" in text and "Sign out" in text
        assert "Log interaction" not in text

"""A session whose staff row lost its rights returns to the login screen with the reason."""

from __future__ import annotations

from textual.widgets import Static

from crm_tui.domain.admin import staff
from crm_tui.domain.kernel.context import Crm
from crm_tui.screens.login import LoginScreen
from crm_tui.screens.main import MainScreen
from crm_tui.widgets.domain_call import DomainCalls
from tests.conftest import World
from tests.tui_support import new_app, screen_text, settle, sign_in


class Probe(DomainCalls, Static):
    """Any widget that calls the domain the one way (DomainCalls)."""


async def test_disabled_while_signed_in_goes_back_to_login(sqlite_crm: Crm,
                                                           sqlite_world: World) -> None:
    app = new_app(sqlite_crm)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await sign_in(pilot, "rm1")
        assert isinstance(app.screen, MainScreen)
        staff.disable_user(sqlite_crm, sqlite_world["admin"], "rm1")
        pane = Probe()
        await app.screen.mount(pane)
        called: list[int] = []
        pane.call_domain(lambda: called.append(1))  # the next action, whatever it is
        for _ in range(100):  # leaving the screen cancels its workers: poll, do not wait
            await pilot.pause(0.05)
            if isinstance(app.screen, LoginScreen):
                break
        await pilot.pause(0.1)
        assert called == []  # refused before it ran
        assert isinstance(app.screen, LoginScreen)
        assert app.session is None
        assert "rm1 was disabled; the session has ended" in screen_text(app)

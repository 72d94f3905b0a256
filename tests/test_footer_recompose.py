"""The footer rebuilds its keys only when what it shows changes (each rebuild mounts a dozen
widgets: 50-80 ms of a session's CPU), and still follows every real change."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey

from crm_tui.widgets.footer import Footer


class _Keys(Screen[None]):
    BINDINGS = [Binding("a", "first", "First"), Binding("b", "second", "Second")]

    def __init__(self) -> None:
        super().__init__()
        self.second_offered = True

    def compose(self) -> ComposeResult:
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "second":
            return self.second_offered
        return True

    def action_first(self) -> None:
        pass

    def action_second(self) -> None:
        pass


class _App(App[None]):
    def on_mount(self) -> None:
        self.push_screen(_Keys())


def _shown(app: App[None]) -> list[str]:
    return [key.key for key in app.screen.query(FooterKey) if key.key != "ctrl+p"]


async def test_footer_skips_identical_rebuilds_and_follows_real_changes(monkeypatch) -> None:
    rebuilds: list[int] = []
    original = TextualFooter.recompose

    async def counted(self: TextualFooter) -> None:
        rebuilds.append(1)
        await original(self)

    monkeypatch.setattr(TextualFooter, "recompose", counted)
    app = _App()
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause(0.2)
        assert _shown(app) == ["a", "b"]
        before = len(rebuilds)
        for _ in range(3):  # nothing changed: three signals, no rebuild
            app.screen.refresh_bindings()
            await pilot.pause(0.1)
        assert len(rebuilds) == before
        assert _shown(app) == ["a", "b"]

        screen = app.screen
        assert isinstance(screen, _Keys)
        screen.second_offered = False  # a real change: `b` leaves the footer
        screen.refresh_bindings()
        await pilot.pause(0.2)
        assert len(rebuilds) == before + 1
        assert _shown(app) == ["a"]

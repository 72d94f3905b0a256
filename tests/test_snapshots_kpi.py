"""SVG snapshot of the KPI area (branch head, 2026-Q3, the hand-built branch of test_kpi),
in Chinese, at 140×45. Update with `--snapshot-update` after looking at the diff."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from textual.widgets import Input

from crm_tui import i18n
from tests.test_kpi import build
from tests.tui_support import settle, signed_in_app

Compare = Callable[..., bool]


@pytest.fixture
def chinese() -> Iterator[None]:
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def test_kpi_area(snap_compare: Compare, sqlite_crm, sqlite_world, chinese: None) -> None:
    build(sqlite_crm, sqlite_world)

    async def open_kpis(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("f10")
        await settle(pilot)
        pane = pilot.app.screen.query_one("#kpi")
        pane.query_one("#kpi-period", Input).value = "2026-Q3"
        pane.action_refresh()
        await settle(pilot)

    assert snap_compare(signed_in_app(sqlite_crm, sqlite_world, "bh1"), terminal_size=(140, 45),
                        run_before=open_kpis)

"""The warnings screen (w in the KPI area) and the KPI bar's team filter, driven in the real
app: the list as the branch head sees it, Enter opens the profile, tasks made once; the team
filter narrows the figures. Plus the SVG snapshot of the warnings screen."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest
from sqlalchemy import func, select
from textual.widgets import DataTable, Input, Select

from crm_tui import i18n
from crm_tui.screens.profile import ProfileScreen
from crm_tui.screens.warnings import WarningsScreen
from crm_tui.store.models_workflow import Task
from tests.tui_support import screen_text, settle, signed_in_app
from tests.warnings_world import build

Compare = Callable[..., bool]


def _app(crm, world, who: str = "bh1"):  # type: ignore[no-untyped-def]
    app = signed_in_app(crm, world, who)
    app.today = date(2026, 9, 30)  # so the list is as of 1 October 00:00, like the hand sums
    return app


async def _open_warnings(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("f10")
    await settle(pilot)
    pilot.app.screen.query_one("#kpi-sales", DataTable).focus()
    await pilot.press("w")
    await settle(pilot)


async def test_warnings_list_opens_the_profile_and_makes_tasks(sqlite_crm, sqlite_world) -> None:
    ids = build(sqlite_crm, sqlite_world)
    app = _app(sqlite_crm, sqlite_world)
    async with app.run_test(size=(140, 45)) as pilot:
        await _open_warnings(pilot)
        screen = app.screen
        assert isinstance(screen, WarningsScreen)
        table = screen.query_one("#warn-list", DataTable)
        assert [str(table.get_row_at(r)[1]) for r in range(table.row_count)] == [
            "客户A", "客户D", "客户C", "客户I"]
        text = screen_text(app)
        assert "AUM decline 35 + activity drop 25" in text and "listed from 40" in text
        assert "net outflow 33%" in text  # why A is first, under the list
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert "3 created, 0 already open, 1 customers without an RM" in screen_text(app)
        with sqlite_crm.db.read() as s:
            assert s.scalar(select(func.count()).select_from(Task)) == 3
        await pilot.press("2")
        await settle(pilot)
        assert table.row_count == 2 and str(table.get_row_at(0)[0]) == "客户B"
        await pilot.press("1")
        await settle(pilot)
        table.move_cursor(row=1)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen) and app.screen.customer_id == ids["D"]


async def test_team_filter_narrows_the_figures(sqlite_crm, sqlite_world) -> None:
    from tests.test_kpi import build as build_kpis

    build_kpis(sqlite_crm, sqlite_world)
    app = signed_in_app(sqlite_crm, sqlite_world, "bh1")
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot)
        await pilot.press("f10")
        await settle(pilot)
        pane = app.screen.query_one("#kpi")
        pane.query_one("#kpi-period", Input).value = "2026-Q3"
        pane.action_refresh()
        await settle(pilot)
        team = pane.query_one("#kpi-team", Select)
        assert [label for label, _ in team._options[1:]] == ["BJ01 财富一组", "BJ01 财富二组"]
        sales = pane.query_one("#kpi-sales", DataTable)

        def aum_row() -> str:
            return next(str(sales.get_row_at(r)[1]) for r in range(sales.row_count)
                        if "AUM per customer" in str(sales.get_row_at(r)[0]))

        assert aum_row() == "¥12,025,000.00"  # A, B, C, D
        team.value = sqlite_world.teams["财富二组"]  # rm3's team: D only
        await settle(pilot)
        assert aum_row() == "¥100,000.00"
        team.value = sqlite_world.teams["财富一组"]  # rm1 and rm2: A, B, C
        await settle(pilot)
        assert aum_row() == "¥16,000,000.00"


@pytest.fixture
def chinese() -> Iterator[None]:
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def test_warnings_screen_snapshot(snap_compare: Compare, sqlite_crm, sqlite_world,
                                  chinese: None) -> None:
    build(sqlite_crm, sqlite_world)
    assert snap_compare(_app(sqlite_crm, sqlite_world), terminal_size=(140, 45),
                        run_before=_open_warnings)

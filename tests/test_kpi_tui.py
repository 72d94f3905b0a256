"""The KPI area: the branch head reads the quarter's panels, filters by RM, drills into
the AUM pyramid and opens a customer from there."""

from __future__ import annotations

from textual.widgets import DataTable, Input

from crm_tui.screens.kpi_drill import KpiDrillScreen
from crm_tui.screens.profile import ProfileScreen
from tests.test_kpi import build
from tests.tui_support import screen_text, settle, signed_in_app


async def test_panels_filter_and_drill_down(sqlite_crm, sqlite_world) -> None:
    ids = build(sqlite_crm, sqlite_world)
    app = signed_in_app(sqlite_crm, sqlite_world, "bh1")
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot)
        await pilot.press("f10")
        await settle(pilot)
        pane = app.screen.query_one("#kpi")
        pane.query_one("#kpi-period", Input).value = "2026-Q3"
        pane.action_refresh()
        await settle(pilot)
        def cells() -> str:
            out = []
            for panel in ("sales", "value", "service"):
                table = pane.query_one(f"#kpi-{panel}", DataTable)
                out += [str(c) for r in range(table.row_count) for c in table.get_row_at(r)]
            return " | ".join(out)

        assert "66.7%" in screen_text(app)  # the funnel rows are on screen
        assert "¥12,025,000.00" in cells() and "AUM pyramid · Private banking" in cells()
        value = pane.query_one("#kpi-value", DataTable)
        assert value.row_count >= 8
        # filter: rm1's book only
        pane.query_one("#kpi-rm", Input).value = "rm1"
        pane.action_refresh()
        await settle(pilot)
        assert "¥23,500,000.00" in cells()
        # drill: Enter on the private-banking tier lists A, Enter on A opens the profile
        value.focus()
        value.move_cursor(row=0)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, KpiDrillScreen)
        drill = app.screen.query_one(DataTable)
        assert drill.row_count == 1 and "客户A" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen) and app.screen.customer_id == ids["A"]

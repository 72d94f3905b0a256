"""The reports area and the designer, driven through the app: a branch head designs a report
(tier × count and total AUM), previews it, saves it (the database holds it, audited), runs it
from the list (table and chart); a rate without its condition is refused inline. Also the
SVG snapshot of a report run, in Chinese."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select
from textual.widgets import DataTable, Input, Select, Static

from crm_tui import i18n
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.reporting.report_definitions import parse_toml
from crm_tui.domain.reporting.reports import save_report
from crm_tui.screens.report_designer import ReportDesignerScreen
from crm_tui.screens.report_view import ReportViewScreen
from crm_tui.store.models import AuditEvent
from crm_tui.store.models_reporting import SavedReport
from tests.report_support import build_book
from tests.tui_support import screen_text, settle, signed_in_app

WON = """
name = "won-by-category"
title_zh = "各类产品成交金额"
title_en = "Won amount by category"
entity = "opportunities"
dimensions = ["product_category"]
measures = ["count", "sum:amount"]
filters = [{ field = "stage", value = "won" }]
"""


def rows(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(r)] for r in range(table.row_count)]


async def test_design_preview_save_and_run(sqlite_crm, sqlite_world) -> None:
    crm = sqlite_crm
    build_book(crm, sqlite_world)
    app = signed_in_app(crm, sqlite_world, "bh1")
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "No saved report yet" in screen_text(app)
        await pilot.press("n")
        await settle(pilot)
        designer = app.screen
        assert isinstance(designer, ReportDesignerScreen)
        designer.query_one("#d-name", Input).value = "aum-tiers"
        designer.query_one("#d-title-zh", Input).value = "层级资产"
        designer.query_one("#d-title-en", Input).value = "AUM by tier"
        designer.query_one("#d-dim-0", Select).value = "tier"
        designer.query_one("#d-fn-1", Select).value = "rate"  # no condition yet
        await pilot.press("f5")
        await settle(pilot)
        message = str(designer.query_one("#designer-message", Static).render())
        assert "measures[1].when: a rate needs its condition" in message
        designer.query_one("#d-fn-1", Select).value = "sum"
        designer.query_one("#d-field-1", Select).value = "aum"
        designer.query_one("#d-filters", Input).value = "aum >= 100000"
        await pilot.press("f5")
        await settle(pilot)
        preview = designer.query_one("#designer-preview", DataTable)
        # BJ01 with AUM ≥ 100,000: A private, B hnw, C affluent, D mass (E has 0)
        assert rows(preview) == [["Affluent", "1", "1,000,000.50"], ["High net worth", "1", "7,000,000.00"],
                                 ["Mass", "1", "100,000.00"], ["Private banking", "1", "40,000,000.00"]]
        with crm.db.read() as s:
            assert s.scalars(select(SavedReport)).all() == []  # a preview saves nothing
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, ReportDesignerScreen)
        assert "Report aum-tiers saved." in screen_text(app)
        with crm.db.read() as s:
            saved = s.scalars(select(SavedReport)).one()
            audited = s.scalars(select(AuditEvent.action).where(
                AuditEvent.entity == "saved_report")).all()
        assert saved.name == "aum-tiers" and saved.created_by == "bh1"
        d = parse_toml(saved.body)
        assert d.dimensions == ["tier"] and [m.shorthand() for m in d.measures] == ["count", "sum:aum"]
        assert [(c.field, c.op, c.value) for c in d.filters] == [("aum", "gte", "100000")]
        assert audited == ["report.create"]
        # run it from the list: the table and the chart, in the branch head's scope
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReportViewScreen)
        table = app.screen.query_one("#report-table", DataTable)
        assert [r[0] for r in rows(table)] == ["Affluent", "High net worth", "Mass", "Private banking"]
        assert "4 groups · your branch" in screen_text(app)


async def test_edit_keeps_the_version_and_an_rm_runs_in_her_book(sqlite_crm, sqlite_world) -> None:
    crm = sqlite_crm
    build_book(crm, sqlite_world)
    save_report(crm, system_actor("t"), parse_toml(WON))
    app = signed_in_app(crm, sqlite_world, "rm1")
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        table = app.screen.query_one("#report-table", DataTable)
        # rm1's book: O1 fund 1,000,000 and O2 deposit 500,000 (O5 and O6 are not hers)
        assert rows(table) == [["Deposit", "1", "500,000.00"], ["Fund", "1", "1,000,000.00"]]
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        designer = app.screen
        assert isinstance(designer, ReportDesignerScreen)
        assert designer.query_one("#d-dim-0", Select).value == "product_category"
        assert designer.query_one("#d-filters", Input).value == "stage = won"
        await pilot.press("ctrl+s")  # someone else's report: an RM may run it, not change it
        await settle(pilot)
        assert isinstance(app.screen, ReportDesignerScreen)
        assert "cannot" in str(designer.query_one("#designer-message", Static).render())


@pytest.fixture
def chinese() -> Iterator[None]:
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def test_report_run_snapshot(snap_compare: Callable[..., bool], sqlite_crm, sqlite_world,
                             chinese: None) -> None:
    build_book(sqlite_crm, sqlite_world)
    save_report(sqlite_crm, system_actor("t"), parse_toml(WON))

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(signed_in_app(sqlite_crm, sqlite_world, "comp1"), terminal_size=(140, 45),
                        run_before=run)


def test_report_designer_snapshot(snap_compare: Callable[..., bool], sqlite_crm, sqlite_world,
                                  chinese: None) -> None:
    build_book(sqlite_crm, sqlite_world)
    save_report(sqlite_crm, system_actor("t"), parse_toml(WON))

    async def design(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        # a steady cursor: its blink phase would follow how long the preview took
        pilot.app.screen.query_one("#d-name").cursor_blink = False
        await pilot.press("f5")
        await settle(pilot)

    assert snap_compare(signed_in_app(sqlite_crm, sqlite_world, "bh1"), terminal_size=(140, 45),
                        run_before=design)

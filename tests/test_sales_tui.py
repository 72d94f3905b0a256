"""Pilot tests of the pipeline board (move a card, a refused move with its reason, a
filter, paging) and of the lead list (views, countdown, new lead, contact), checked on
screen and in the database; the notification centre marks read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crm_tui.domain.sales import leads, opportunities
from crm_tui.domain.sales.questionnaires import submit_needs
from crm_tui.store.models_sales import Lead, Opportunity, OpportunityLine
from crm_tui.store.types import utcnow
from tests.compliance_world import add_customer
from tests.sales_support import add_product, use_rules
from tests.test_sales_leads import TEAM_RR
from tests.test_sales_pipeline import NEEDS
from tests.tui_support import open_area, settle, signed_in_app, text_of

pytestmark = pytest.mark.asyncio


def _stage(crm, oid) -> str:
    with crm.db.read() as s:
        return s.get(Opportunity, oid).stage


@pytest.fixture
def board_world(sqlite_crm, sqlite_world):
    crm, world = sqlite_crm, sqlite_world
    cid = add_customer(crm, world, "rm1", "王建国", level="C3")
    add_product(crm, "WM-R2", "R2")
    oid = opportunities.create_opportunity(crm, world["rm1"], cid)
    other = add_customer(crm, world, "rm1", "李秀英", level="C3", id_prefix="11010119800101002")
    oid2 = opportunities.create_opportunity(crm, world["rm1"], other)
    return crm, world, cid, oid, oid2


async def test_board_refuses_then_moves_a_card_and_filters(board_world):
    crm, world, cid, oid, oid2 = board_world
    app = signed_in_app(crm, world, "rm1")
    async with app.run_test(size=(140, 45)) as pilot:
        await open_area(pilot, "f5")
        board = app.screen.query_one("#pipeline")
        assert board.column("needs").count == 2
        await pilot.press("shift+right")
        await settle(pilot)
        assert text_of(app, "#board-message") == "Needs questionnaire not completed."
        assert _stage(crm, oid) == "needs"
        submit_needs(crm, world["rm1"], cid, NEEDS)
        await pilot.press("shift+right")
        await settle(pilot)
        assert _stage(crm, oid) == "matching"
        assert "moved to Matching" in text_of(app, "#board-message")
        assert board.column("matching").count == 1 and board.column("needs").count == 1
        # the filter: a product nobody chose empties the board
        await pilot.press("f")
        await settle(pilot)
        app.screen.query_one("#f-product_code").value = "WM-R2"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert board.column("needs").count == 0 and board.column("matching").count == 0
        assert "WM-R2" in text_of(app, "#board-filter-line")
        assert _stage(crm, oid2) == "needs"


async def test_board_marks_a_card_lost_with_a_reason_from_the_policy(board_world):
    crm, world, cid, oid, oid2 = board_world
    app = signed_in_app(crm, world, "rm1")
    async with app.run_test(size=(140, 45)) as pilot:
        await open_area(pilot, "f5")
        board = app.screen.query_one("#pipeline")
        await pilot.press("l")
        await settle(pilot)
        from textual.widgets import Select

        reason = app.screen.query_one("#f-lost", Select)
        assert reason.value == "price"  # the policy's first reason, read in a worker
        reason.value = "competitor"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert board.column("needs").count == 1
    with crm.db.read() as s:
        lost = [o for o in (s.get(Opportunity, oid), s.get(Opportunity, oid2)) if o.stage == "lost"]
        assert [o.lost_reason for o in lost] == ["competitor"]


async def test_board_mouse_click_a_card_then_a_column_moves_it(board_world):
    crm, world, cid, oid, oid2 = board_world
    submit_needs(crm, world["rm1"], cid, NEEDS)
    app = signed_in_app(crm, world, "rm1")
    async with app.run_test(size=(140, 45)) as pilot:
        await open_area(pilot, "f5")
        board = app.screen.query_one("#pipeline")
        assert board.picked is None  # a highlighted card is not picked until clicked
        await pilot.click("#col-matching .kanban-head")
        await settle(pilot)
        assert _stage(crm, oid) == "needs" and _stage(crm, oid2) == "needs"
        await pilot.click("#cards-needs", offset=(3, 0))  # the first card, 王建国's
        await settle(pilot)
        assert board.picked is not None and board.picked.id == oid
        assert "王建国" in text_of(app, "#board-message")
        await pilot.click("#col-matching .kanban-head")
        await settle(pilot)
        assert _stage(crm, oid) == "matching" and _stage(crm, oid2) == "needs"
        assert board.column("matching").count == 1
        assert [c.id for c in board.column("matching").cards] == [oid]


async def test_board_mouse_refused_move_says_why(board_world):
    crm, world, cid, oid, oid2 = board_world
    app = signed_in_app(crm, world, "rm1")
    async with app.run_test(size=(140, 45)) as pilot:
        await open_area(pilot, "f5")
        await pilot.click("#cards-needs", offset=(3, 4))  # the second card, 李秀英's
        await settle(pilot)
        await pilot.click("#cards-matching", offset=(3, 3))  # anywhere in the column
        await settle(pilot)
        assert text_of(app, "#board-message") == "Needs questionnaire not completed."
        assert app.screen.query_one("#board-message").has_class("-error")
        assert _stage(crm, oid2) == "needs" and _stage(crm, oid) == "needs"


async def test_board_mouse_drag_a_card_onto_a_column(board_world):
    crm, world, cid, oid, _ = board_world
    submit_needs(crm, world["rm1"], cid, NEEDS)
    app = signed_in_app(crm, world, "rm1")
    async with app.run_test(size=(140, 45)) as pilot:
        await open_area(pilot, "f5")
        await pilot.mouse_down("#cards-needs", offset=(3, 1))
        await pilot.mouse_up("#cards-matching", offset=(3, 5))
        await settle(pilot)
        assert _stage(crm, oid) == "matching"
        assert "moved to Matching" in text_of(app, "#board-message")
        # released over its own column: nothing moves
        await pilot.mouse_down("#cards-needs", offset=(3, 1))
        await pilot.mouse_up("#cards-needs", offset=(3, 6))
        await settle(pilot)
        assert board_stages(crm, world) == {"needs": 1, "matching": 1}


def board_stages(crm, world) -> dict[str, int]:
    with crm.db.read() as s:
        stages = [o.stage for o in s.scalars(select(Opportunity))]
    return {st: stages.count(st) for st in set(stages)}


async def test_board_product_form_adds_a_second_product_line(board_world):
    crm, world, cid, oid, _ = board_world
    add_product(crm, "WM-R1", "R1")
    submit_needs(crm, world["rm1"], cid, NEEDS)
    opportunities.move(crm, world["rm1"], oid, "matching")
    opportunities.choose_product(crm, world["rm1"], oid, "WM-R2", "100000")
    app = signed_in_app(crm, world, "rm1")
    async with app.run_test(size=(140, 45)) as pilot:
        await open_area(pilot, "f5")
        await pilot.press("right")  # the matching column, its one card
        await pilot.press("p")
        await settle(pilot)
        matches = app.screen.query_one("#match-list")
        matches.highlighted = next(i for i in range(matches.option_count)
                                   if matches.get_option_at_index(i).id == "WM-R1")
        app.screen.query_one("#f-amount").value = "50000"
        app.screen.query_one("#f-add-line").value = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "WM-R1" in text_of(app, "#board-message")
    with crm.db.read() as s:
        lines = s.scalars(select(OpportunityLine).where(OpportunityLine.opportunity_id == oid)
                          .order_by(OpportunityLine.position)).all()
        assert [(x.position, x.amount_fen) for x in lines] == [(1, 10_000_000), (2, 5_000_000)]
        assert s.get(Opportunity, oid).amount_fen == 15_000_000


async def test_lead_list_views_countdown_new_lead_and_contact(sqlite_crm, sqlite_world):
    crm, world = sqlite_crm, sqlite_world
    use_rules(crm, TEAM_RR)
    old = leads.create_lead(crm, world["sup1"], {"name": "逾期客户", "source": "web",
                                                 "created_at": (utcnow() - timedelta(hours=30)).isoformat()})
    app = signed_in_app(crm, world, "sup1")
    async with app.run_test(size=(140, 45)) as pilot:
        await open_area(pilot, "f6")
        pane = app.screen.query_one("#leads")
        assert [r.id for r in pane.rows] == [old]
        table = app.screen.query_one("#lead-list")
        assert "overdue" in str(table.get_row_at(0)[-1])
        await pilot.press("v", "v", "v")  # all → mine → unassigned → breached
        await settle(pilot)
        assert pane.view == "breached" and [r.id for r in pane.rows] == [old]
        await pilot.press("v")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        app.screen.query_one("#f-name").value = "新客户"
        app.screen.query_one("#f-phone").value = "12"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Mobile" in str(app.screen.query_one("#row-phone .field-error").content) or \
            app.screen.query_one("#row-phone").has_class("-invalid")
        app.screen.query_one("#f-phone").value = "13612345678"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "saved" in text_of(app, "#lead-message")
        with crm.db.read() as s:
            new = s.scalars(select(Lead).where(Lead.name == "新客户")).one()
        assert new.owner_id in (world["rm1"].id, world["rm2"].id)
        assert pane.rows[0].id == new.id
        await pilot.press("c")
        await settle(pilot)
        with crm.db.read() as s:
            assert s.get(Lead, new.id).first_contact_at is not None


async def test_notification_centre_marks_read(sqlite_crm, sqlite_world):
    crm, world = sqlite_crm, sqlite_world
    use_rules(crm, TEAM_RR)
    leads.create_lead(crm, world["sup1"], {"name": "赵敏", "source": "campaign"})
    app = signed_in_app(crm, world, "rm1")
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot)
        main = app.screen
        await pilot.press("f9")
        await settle(pilot)
        pane = app.screen.query_one("#notifications")
        assert len(pane.rows) == 1  # round-robin starts at the team's first RM, rm1
        assert "赵敏" in str(app.screen.query_one("#notify-list").get_row_at(0)[-1])
        assert main.badges.get("notifications") == 1
        await pilot.press("m")
        await settle(pilot)
        assert pane.rows == [] and main.badges.get("notifications") == 0


async def test_lead_list_runs_the_sla_job_inside_the_app(sqlite_crm, sqlite_world):
    crm, world = sqlite_crm, sqlite_world
    use_rules(crm, TEAM_RR)
    lid = leads.create_lead(crm, world["sup1"], {
        "name": "过期线索", "source": "web",
        "created_at": (utcnow() - timedelta(hours=26)).isoformat()})
    app = signed_in_app(crm, world, "sup1")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_area(pilot, "f6")
        app.screen.query_one("#leads").run_sla_job()
        await settle(pilot)
    with crm.db.read() as s:
        assert s.get(Lead, lid).breached_at is not None

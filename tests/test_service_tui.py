"""Pilot tests of the ticket queue (f7) and My day (f8): what they show and what the keys
change in the database."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from textual.widgets import DataTable, Input

from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.service import tickets
from crm_tui.domain.workflow.tasks import create_task
from crm_tui.screens.main import MainScreen
from crm_tui.store.models import Interaction
from crm_tui.store.models_service import Ticket
from crm_tui.store.models_workflow import Task
from tests.conftest import World
from tests.helpers import make_customer
from tests.tui_support import open_area, screen_text, settle, signed_in_app

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 16, 10, 0, tzinfo=SH)  # tui_support.TODAY, 10:00 in Shanghai


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("crm_tui.screens.tickets.clock", lambda: NOW)
    monkeypatch.setattr("crm_tui.screens.my_day.clock", lambda: NOW)


def queue(crm: Crm, world: World) -> dict[str, int]:
    """Four tickets at the branch: an urgent one overdue, a complaint, two others."""
    zhou = make_customer(crm, world["rm1"], "周晓梅")
    qian = make_customer(crm, world["rm1"], "钱国栋")
    svc = world["svc1"]
    out = {}
    for name, cid, raw, at in (
        ("urgent", zhou, {"type": "transaction_help", "priority": "urgent",
                          "subject": "手机银行转账失败但已扣款"}, datetime(2025, 6, 13, 16, 0, tzinfo=SH)),
        ("complaint", qian, {"type": "complaint", "priority": "high",
                             "subject": "理财产品销售时未充分揭示风险"}, NOW - timedelta(minutes=30)),
        ("inquiry", zhou, {"type": "inquiry", "subject": "大额存单利率咨询"}, NOW),
        ("info", qian, {"type": "info_change", "priority": "low",
                        "subject": "更新通讯地址"}, NOW - timedelta(days=1)),
    ):
        out[name] = tickets.create_ticket(crm, svc, cid, raw, now=at)
    return out


def _ids(app) -> list[int]:  # type: ignore[no-untyped-def]
    return [r.id for r in app.screen.query_one("#tickets").rows]


async def test_queue_orders_by_breach_and_works_a_ticket(sqlite_crm: Crm, sqlite_world: World,
                                                        pinned: None) -> None:
    ids = queue(sqlite_crm, sqlite_world)
    app = signed_in_app(sqlite_crm, sqlite_world, "svc1")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        await pilot.press("f7")
        await settle(pilot)
        assert _ids(app) == [ids["urgent"], ids["complaint"], ids["inquiry"], ids["info"]]
        text = screen_text(app)
        assert "-2d17h" in text  # due Friday 17:00: two days and 17 hours late
        assert "Team queue" in text

        await pilot.press("p")  # priority filter: urgent
        await settle(pilot)
        assert _ids(app) == [ids["urgent"]]
        await pilot.press("p", "p", "p", "p")  # back to every priority; the cursor stays
        await settle(pilot)                     # on the last ticket it was on (#4, low)
        await pilot.press("up", "up", "up")

        await pilot.press("t")  # take the urgent one
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        field = app.screen.query_one(Input)
        field.value = "已核实扣款，正在联系清算中心"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("w")  # wait for the customer: the clock pauses
        await settle(pilot)
        assert "paused" in screen_text(app)
        with sqlite_crm.db.read() as s:
            t = s.scalars(select(Ticket).where(Ticket.id == ids["urgent"])).one()
            assert (t.assignee_id, t.state) == (sqlite_world["svc1"].id, "waiting_customer")
            assert t.first_response_at is not None and t.paused_at is not None

        await pilot.press("c")  # refused: a paused ticket is not closed; the reason shows
        await settle(pilot)
        assert "cannot go from Waiting for customer to Closed" in screen_text(app)

        await pilot.press("g")  # resume
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        app.screen.query_one(Input).value = "清算中心已退回款项"
        await pilot.press("enter")
        await settle(pilot)
        with sqlite_crm.db.read() as s:
            assert s.scalars(select(Ticket.state).where(Ticket.id == ids["urgent"])).one() == "resolved"
        assert ids["urgent"] not in _ids(app)


async def test_queue_click_picks_a_ticket_and_double_click_responds(
        sqlite_crm: Crm, sqlite_world: World, pinned: None) -> None:
    ids = queue(sqlite_crm, sqlite_world)
    app = signed_in_app(sqlite_crm, sqlite_world, "svc1")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_area(pilot, "f7")
        from crm_tui.screens.ticket_forms import TicketTextModal

        await pilot.click("#ticket-table", offset=(5, 3))  # the header, then rows 0, 1, 2
        await settle(pilot)
        assert not isinstance(app.screen, TicketTextModal)
        assert app.screen.query_one("#ticket-table").cursor_row == 2
        await pilot.click("#ticket-table", offset=(5, 2), times=2)
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, TicketTextModal) and modal.kind == "respond"
        assert modal.ticket_id == ids["complaint"]


async def test_complaint_loop_from_the_queue(sqlite_crm: Crm, sqlite_world: World,
                                            pinned: None) -> None:
    ids = queue(sqlite_crm, sqlite_world)
    app = signed_in_app(sqlite_crm, sqlite_world, "svc1")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_area(pilot, "f7")
        await pilot.press("down", "k")
        await settle(pilot)
        assert "Complaint loop of ticket" in screen_text(app)
        await pilot.press("ctrl+s")  # no level chosen: refused, the dialog stays
        await settle(pilot)
        assert "not a complaint level" in screen_text(app)
        from textual.widgets import Select

        app.screen.query_one("#complaint-level", Select).value = "serious"
        await pilot.press("ctrl+s")
        await settle(pilot)
        from crm_tui.store.models_service import Complaint

        with sqlite_crm.db.read() as s:
            c = s.scalars(select(Complaint).where(Complaint.ticket_id == ids["complaint"])).one()
            assert (c.step, c.level) == ("graded", "serious")


def _tasks(crm: Crm, world: World) -> dict[str, int]:
    rm = world["rm1"]
    cid = make_customer(crm, rm, "欧阳振华", aum="35,000,000")
    out = {}
    with crm.db.write() as s:
        for name, kind, title, params, due in (
            ("review", "review", "service.task.review",
             {"tier_label_key": "service.tier.private_banking", "customer": "欧阳振华",
              "script_key": "service.script.portfolio_review", "review_kind": "portfolio_review"},
             NOW + timedelta(hours=3)),
            ("overdue", "care_call", "service.task.care_call",
             {"occasion_key": "service.occasion.birthday", "customer": "欧阳振华"},
             NOW - timedelta(days=2)),
            ("tomorrow", "other", "service.task.review",
             {"tier_label": "x", "customer": "y"}, NOW + timedelta(days=1, hours=2)),
        ):
            out[name] = create_task(crm.db, s, rm, owner_id=rm.id or 0, kind=kind,
                                    title_key=title, params=params, customer_id=cid, due_at=due) or 0
    out["customer"] = cid
    return out


async def test_my_day_is_the_rm_home_and_marks_tasks_done(sqlite_crm: Crm, sqlite_world: World,
                                                         pinned: None) -> None:
    ids = _tasks(sqlite_crm, sqlite_world)
    app = signed_in_app(sqlite_crm, sqlite_world, "rm1")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.screen.query_one("#my_day")
        assert app.focused is pane.query_one("#myday-table", DataTable)
        assert [t.id for t in pane.rows] == [ids["overdue"], ids["review"]]
        text = screen_text(app)
        assert "Care call (birthday): 欧阳振华" in text and "1 overdue" in text
        await pilot.press("down")
        await settle(pilot)
        assert "model portfolio" in screen_text(app)  # the tier's script
        await pilot.press("d")
        await settle(pilot)
        assert [t.id for t in pane.rows] == [ids["overdue"]]
        with sqlite_crm.db.read() as s:
            assert s.scalars(select(Task.status).where(Task.id == ids["review"])).one() == "done"
            subjects = list(s.scalars(select(Interaction.subject).where(
                Interaction.customer_id == ids["customer"])))
        assert subjects == ["Quarterly portfolio review completed"]
        await pilot.press("n")
        await settle(pilot)
        app.screen.query_one(Input).value = "已致电祝福"
        await pilot.press("enter")
        await settle(pilot)
        assert pane.rows == []
        with sqlite_crm.db.read() as s:
            assert s.scalars(select(Task.note).where(Task.id == ids["overdue"])).one() == "已致电祝福"


async def test_new_ticket_from_the_profile(sqlite_crm: Crm, sqlite_world: World,
                                          pinned: None) -> None:
    cid = make_customer(sqlite_crm, sqlite_world["rm1"], "周晓梅")
    app = signed_in_app(sqlite_crm, sqlite_world, "svc1")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.open_customer(cid)
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("ctrl+s")  # no subject: refused next to the field
        await settle(pilot)
        assert "required" in screen_text(app).lower()
        app.screen.query_one("#ticket-subject", Input).value = "申请开具存款证明"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "created and routed" in screen_text(app)
    with sqlite_crm.db.read() as s:
        t = s.scalars(select(Ticket).where(Ticket.customer_id == cid)).one()
    assert (t.type, t.priority, t.queue, t.created_by) == ("inquiry", "normal", "general",
                                                           sqlite_world["svc1"].id)

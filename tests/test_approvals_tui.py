"""The approval inbox, driven from the keyboard and checked against the database: approve,
reject with its required comment, stale refusal; plus asking for a sensitive change and
recording a sale from the profile, and clearing a risk alert."""

from __future__ import annotations

from sqlalchemy import select
from textual.widgets import DataTable, Input, Select

from crm_tui.domain.compliance.sensitive_changes import request_change
from crm_tui.domain.customers.records import update_customer
from crm_tui.screens.approval_detail import ApprovalDetailScreen
from crm_tui.screens.profile import ProfileScreen
from crm_tui.screens.reject_modal import RejectModal
from crm_tui.store.models import Customer
from crm_tui.store.models_compliance import ApprovalDecision, ApprovalRequest, RiskAlert
from tests.compliance_world import build_book
from tests.tui_support import screen_text, settle, signed_in_app, text_of

NEW_PHONE = "13912345678"


def _request(crm, rid: int) -> ApprovalRequest:
    with crm.db.read() as s:
        req = s.get(ApprovalRequest, rid)
        assert req is not None
        return req


def _phone(crm, cid: int) -> str:
    with crm.db.read() as s:
        return crm.keys.decrypt("phone", s.scalar(select(Customer.phone_enc)
                                                  .where(Customer.id == cid)))


async def _open_inbox(pilot) -> DataTable:  # type: ignore[no-untyped-def]
    await pilot.press("f3")
    await settle(pilot)
    return pilot.app.screen.query_one("#approval-list-decide", DataTable)


async def test_supervisor_approves_from_the_detail(sqlite_crm, sqlite_world) -> None:
    crm, world = sqlite_crm, sqlite_world
    book = build_book(crm, world)
    cid = book.customers["c1"]
    rid = request_change(crm, world["rm1"], cid, "phone", NEW_PHONE, reason="客户换号")
    app = signed_in_app(crm, world, "sup1")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "Approvals  1" in screen_text(app)  # the badge in the navigation
        table = await _open_inbox(pilot)
        assert table.row_count == 1
        text = screen_text(app)
        assert "Sensitive change" in text and "王芳" in text and "Change Mobile of 张三" in text
        table.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ApprovalDetailScreen)
        text = screen_text(app)
        assert "138****8000" in text and "139****5678" in text and NEW_PHONE not in text
        await pilot.press("a")
        await settle(pilot)
        assert not isinstance(app.screen, ApprovalDetailScreen)
        assert "approved: the change is applied" in text_of(app, "#approval-message")
        assert "Approvals  0" in screen_text(app)
    assert _request(crm, rid).status == "approved"
    assert _phone(crm, cid) == NEW_PHONE


async def test_reject_requires_a_comment(sqlite_crm, sqlite_world) -> None:
    crm, world = sqlite_crm, sqlite_world
    book = build_book(crm, world)
    rid = request_change(crm, world["rm1"], book.customers["c1"], "phone", NEW_PHONE, reason="来电")
    app = signed_in_app(crm, world, "sup1")
    async with app.run_test(size=(120, 40)) as pilot:
        table = await _open_inbox(pilot)
        table.focus()
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, RejectModal)
        await pilot.press("enter")  # empty comment
        await settle(pilot)
        assert isinstance(app.screen, RejectModal)
        assert "required when rejecting" in screen_text(app)
        assert _request(crm, rid).status == "pending"
        app.screen.query_one("#reject-comment", Input).value = "号码与签字申请表不符"
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, RejectModal)
        assert "rejected" in text_of(app, "#approval-message")
        assert table.row_count == 0
    assert _request(crm, rid).status == "rejected"
    with crm.db.read() as s:
        d = s.scalars(select(ApprovalDecision)).one()
    assert (d.decision, d.comment, d.decider_id) == ("rejected", "号码与签字申请表不符",
                                                      world["sup1"].id)
    assert _phone(crm, book.customers["c1"]) == "13800138000"


async def test_stale_approval_is_refused_on_screen(sqlite_crm, sqlite_world) -> None:
    crm, world = sqlite_crm, sqlite_world
    book = build_book(crm, world)
    cid = book.customers["c1"]
    rid = request_change(crm, world["rm1"], cid, "phone", NEW_PHONE, reason="来电")
    app = signed_in_app(crm, world, "sup1")
    async with app.run_test(size=(120, 40)) as pilot:
        table = await _open_inbox(pilot)
        table.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ApprovalDetailScreen)
        update_customer(crm, world["rm1"], cid, 1, {"address": "北京市西城区金融大街1号"})
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ApprovalDetailScreen)
        text = screen_text(app)
        assert "is stale" in text and "State: Stale" in text
    assert _request(crm, rid).status == "stale"
    assert _phone(crm, cid) == "13800138000"


async def test_maker_asks_for_a_change_from_the_profile(sqlite_crm, sqlite_world) -> None:
    crm, world = sqlite_crm, sqlite_world
    book = build_book(crm, world)
    cid = book.customers["c1"]
    app = signed_in_app(crm, world, "rm1")
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_customer(cid)
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        await pilot.press("s")
        await settle(pilot)
        assert app.focused is app.screen.query_one("#change-field", Select)  # picker first
        app.screen.query_one("#change-field", Select).value = "phone"
        app.screen.query_one("#change-value", Input).value = "123"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Give a reason" in screen_text(app) or "give a reason" in screen_text(app)
        app.screen.query_one("#change-reason", Input).value = "客户来电，已核实"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "11-digit" in screen_text(app)
        app.screen.query_one("#change-value", Input).value = NEW_PHONE
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        assert "sent for approval" in text_of(app, "#profile-message")
    with crm.db.read() as s:
        req = s.scalars(select(ApprovalRequest)).one()
    assert (req.kind, req.status, req.maker_id) == ("sensitive_change", "pending", world["rm1"].id)
    assert _phone(crm, cid) == "13800138000"


async def test_sale_outcomes_blocked_and_sent_up_the_chain(sqlite_crm, sqlite_world) -> None:
    crm, world = sqlite_crm, sqlite_world
    book = build_book(crm, world)
    app = signed_in_app(crm, world, "rm1")
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_customer(book.customers["c2"])  # a C1 customer
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        app.screen.query_one("#tx-product", Select).value = "P-R4"
        await settle(pilot)
        assert "Not suitable: a C1 customer may not buy an R4 product." in screen_text(app)
        assert "Submit would be refused" in screen_text(app)
        app.screen.query_one("#tx-amount", Input).value = "10000"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "may not buy an R4" in text_of(app, "#form-error")
        app.screen.query_one("#tx-product", Select).value = "P-R2"
        app.screen.query_one("#tx-amount", Input).value = "600,000"
        await settle(pilot)
        assert "override needed" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        message = text_of(app, "#profile-message")
        assert "Compliance → Supervisor" in message and "request #" in message
    with crm.db.read() as s:
        req = s.scalars(select(ApprovalRequest)).one()
    assert req.kind == "suitability_override"
    assert [lv["role"] for lv in req.levels] == ["compliance", "supervisor"]


async def test_risk_officer_clears_an_alert(sqlite_crm, sqlite_world) -> None:
    crm, world = sqlite_crm, sqlite_world
    book = build_book(crm, world)
    with crm.db.write() as s:
        s.add(RiskAlert(alert_key="k1", rule="cross_border_burst", kind="cross_border",
                        severity="high", freeze=True, customer_id=book.customers["c1"],
                        details={"count": 3, "total": "600000.00", "window_days": 7.0}))
    app = signed_in_app(crm, world, "risk1")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f4")
        await settle(pilot)
        text = screen_text(app)
        assert "cross-border burst" in text and "Frozen" in text and "张三" in text
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("enter")  # no reason yet
        await settle(pilot)
        assert "give the reason" in screen_text(app)
        app.screen.query_one("#clear-reason", Input).value = "已电话核实为本人留学缴费"
        await pilot.press("enter")
        await settle(pilot)
        assert "freeze on the customer is lifted" in text_of(app, "#alert-message")
    with crm.db.read() as s:
        alert = s.scalars(select(RiskAlert)).one()
    assert (alert.status, alert.cleared_by) == ("cleared", world["risk1"].id)

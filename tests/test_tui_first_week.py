"""Issue 8 in the TUI: confirmations where money moves, a filled form that asks before it
is thrown away, refusals in words."""

from __future__ import annotations

from textual.widgets import Input

from crm_tui.domain.kernel.errors import PermissionDenied
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.sales.transactions import record_transaction
from crm_tui.screens.confirm_modal import ConfirmModal
from crm_tui.screens.profile import ProfileScreen
from crm_tui.store.models_compliance import ApprovalRequest
from tests.compliance_world import build_book
from tests.test_approvals_tui import _open_inbox
from tests.tui_support import screen_text, settle, signed_in_app


async def test_approving_a_large_transaction_asks_with_amount_and_product(
        sqlite_crm, sqlite_world) -> None:
    crm, world = sqlite_crm, sqlite_world
    book = build_book(crm, world)
    out = record_transaction(crm, world["rm1"], book.customers["c1"], "subscription",
                             "600,000", product_code="P-R3")
    app = signed_in_app(crm, world, "sup1")
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_inbox(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        text = screen_text(app)
        assert "600,000.00" in text and "P-R3" in text
        await pilot.press("n")
        await settle(pilot)
        with crm.db.read() as s:
            assert s.get(ApprovalRequest, out.request_id).status == "pending"
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
    with crm.db.read() as s:
        assert s.get(ApprovalRequest, out.request_id).status == "approved"


async def test_esc_on_a_filled_form_asks_first(sqlite_crm, sqlite_world) -> None:
    crm, world = sqlite_crm, sqlite_world
    book = build_book(crm, world)
    app = signed_in_app(crm, world, "rm1")
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_customer(book.customers["c1"])
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        form = app.screen
        form.query(Input).first().value = "回访，确认"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")  # keep editing
        await settle(pilot)
        assert app.screen is form
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)


def test_a_refusal_is_said_in_words(sqlite_world) -> None:
    try:
        require(sqlite_world["svc1"], Perm.TAG_MANAGE)
    except PermissionDenied as exc:
        assert exc.message == "Your role cannot manage tags."
    else:
        raise AssertionError("svc1 may not manage tags")


async def test_a_manual_lock_is_audited_as_manual(sqlite_crm, sqlite_world) -> None:
    from sqlalchemy import select

    from crm_tui.store.models import AuditEvent

    app = signed_in_app(sqlite_crm, sqlite_world, "rm1")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        await app.workers.wait_for_complete()
    with sqlite_crm.db.read() as s:
        actions = list(s.scalars(select(AuditEvent.action)))
    assert "auth.manual_lock" in actions and "auth.idle_lock" not in actions


async def test_profile_shows_freeze_and_pending_change_up_front(sqlite_crm, sqlite_world) -> None:
    from crm_tui.domain.compliance.sensitive_changes import request_change
    from crm_tui.store.models_compliance import RiskAlert

    crm, world = sqlite_crm, sqlite_world
    book = build_book(crm, world)
    cid = book.customers["c1"]
    request_change(crm, world["rm1"], cid, "phone", "13911112222", reason="客户来电，已核实")
    with crm.db.write() as s:
        s.add(RiskAlert(alert_key="t1", rule="cross_border_burst", kind="cross_border",
                        severity="high", freeze=True, customer_id=cid, details={}))
    app = signed_in_app(crm, world, "rm1")
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_customer(cid)
        await settle(pilot)
        text = screen_text(app)
        assert "Customer frozen" in text
        assert "Changes waiting for approval: Mobile" in text or "waiting for approval" in text
        assert "pending approval" in text  # the marker beside the phone


async def test_tags_duplicate_feedback_and_esc_stays_in_the_profile(sqlite_crm,
                                                                    sqlite_world) -> None:
    crm, world = sqlite_crm, sqlite_world
    book = build_book(crm, world)
    app = signed_in_app(crm, world, "rm1")
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_customer(book.customers["c1"])
        await settle(pilot)
        for _ in range(2):
            await pilot.press("t", *"VIP", "enter")
            await settle(pilot)
            await pilot.press("escape")  # leaves the tag box, not the profile
            await settle(pilot)
            assert isinstance(app.screen, ProfileScreen)
        assert "already there" in screen_text(app)


async def test_service_role_is_not_offered_tag_removal(sqlite_crm, sqlite_world) -> None:
    from tests.helpers import make_customer

    crm, world = sqlite_crm, sqlite_world
    cid = make_customer(crm, world["rm1"], "张三")
    app = signed_in_app(crm, world, "svc1")
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_customer(cid)
        await settle(pilot)
        assert not app.screen.query_one("#tag-input").display
        app.screen.query_one("#tag-options").focus()
        await settle(pilot)
        assert "Remove tag" not in screen_text(app)


async def test_profiles_from_the_palette_do_not_stack(sqlite_crm, sqlite_world) -> None:
    crm, world = sqlite_crm, sqlite_world
    book = build_book(crm, world)
    app = signed_in_app(crm, world, "rm1")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for cid in (book.customers["c1"], book.customers["c2"], book.customers["c1"]):
            app.open_customer(cid, replace=True)
            await settle(pilot)
        assert sum(isinstance(s, ProfileScreen) for s in app.screen_stack) == 1


async def test_trade_form_previews_every_refusal_and_redeems_only_holdings(
        sqlite_crm, sqlite_world) -> None:
    from textual.widgets import Select

    from crm_tui.store.models_compliance import RiskAlert
    from tests.compliance_world import give_holding

    crm, world = sqlite_crm, sqlite_world
    book = build_book(crm, world)
    cid = book.customers["c1"]
    give_holding(crm, cid, book.products["P-R2"], 500_000)
    with crm.db.write() as s:
        s.add(RiskAlert(alert_key="t1", rule="cross_border_burst", kind="cross_border",
                        severity="high", freeze=True, customer_id=cid, details={}))
    app = signed_in_app(crm, world, "rm1")
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_customer(cid)
        await settle(pilot)
        await pilot.press("b")
        await settle(pilot)
        form = app.screen
        form.query_one("#tx-product", Select).value = "P-R3"
        form.query_one("#tx-amount", Input).value = "0"
        await settle(pilot)
        text = screen_text(app)
        assert "Submit would be refused" in text and "cross-border" in text
        assert "must not be 0" in text
        form.query_one("#tx-kind", Select).value = "redemption"
        await settle(pilot)
        codes = [code for _, code in form.query_one("#tx-product", Select)._options
                 if isinstance(code, str)]
        assert codes == ["P-R2"]
        form.query_one("#tx-amount", Input).value = ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "is required" in screen_text(app)


async def test_the_maker_sees_new_decisions_with_a_badge(sqlite_crm, sqlite_world) -> None:
    from textual.widgets import TabbedContent

    from crm_tui.domain.compliance import approvals
    from crm_tui.domain.compliance.decision_news import unseen_decisions
    from crm_tui.domain.compliance.sensitive_changes import request_change

    crm, world = sqlite_crm, sqlite_world
    book = build_book(crm, world)
    rid = request_change(crm, world["rm1"], book.customers["c1"], "phone", "13911112222",
                         reason="客户来电，已核实")
    approvals.reject(crm, world["sup1"], rid, "号码与柜面登记不符")
    assert unseen_decisions(crm, world["rm1"]) == 1
    app = signed_in_app(crm, world, "rm1")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        await settle(pilot)
        tabs = app.screen.query_one(TabbedContent)
        assert "1 new" in str(tabs.get_tab("approvals-mine").label)
        assert "1 To decide" in screen_text(app) or "2 Mine" in screen_text(app)  # keys shown
        await pilot.press("2")
        await settle(pilot)
        assert "new" not in str(tabs.get_tab("approvals-mine").label)
    assert unseen_decisions(crm, world["rm1"]) == 0

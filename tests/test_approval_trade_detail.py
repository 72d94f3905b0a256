"""Issue 8 (CLI/approvals): a transaction request's detail shows the trade — kind, product,
amount in ¥, the customer masked, the suitability result — not an empty change table; and
a rejected request says "Rejected" once."""

from __future__ import annotations

from crm_tui.domain.compliance import approvals
from crm_tui.domain.sales.transactions import record_transaction
from crm_tui.screens.approval_detail import ApprovalDetailScreen
from tests.compliance_world import build_book
from tests.tui_support import screen_text, settle, signed_in_app, text_of


def _sale(crm, world) -> int:
    book = build_book(crm, world)
    out = record_transaction(crm, world["rm1"], book.customers["c2"], "subscription",
                             "600,000", product_code="P-R2")  # a C1 customer, an R2 product
    assert out.status == "pending_approval" and out.request_id
    return out.request_id


async def test_the_detail_shows_the_trade(sqlite_crm, sqlite_world) -> None:
    rid = _sale(sqlite_crm, sqlite_world)
    app = signed_in_app(sqlite_crm, sqlite_world, "comp1")
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot)
        app.push_screen(ApprovalDetailScreen(rid))
        await settle(pilot)
        screen = app.screen
        trade = screen_text(app)
        for expected in ("Subscription", "P-R2", "¥600,000.00", "李*"):
            assert expected in trade, expected
        assert "李四" not in trade.split("The trade")[1].split("Evidence")[0]
        assert "C1" in trade and "R2" in trade  # the suitability result, in words
        assert screen.query_one("#approval-trade-title").display
        assert not screen.query_one("#approval-changes-title").display  # no empty "Change"


async def test_a_rejected_request_says_so_once(sqlite_crm, sqlite_world) -> None:
    rid = _sale(sqlite_crm, sqlite_world)
    approvals.reject(sqlite_crm, sqlite_world["comp1"], rid, "客户不适合该产品")
    app = signed_in_app(sqlite_crm, sqlite_world, "rm1")
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot)
        app.push_screen(ApprovalDetailScreen(rid))
        await settle(pilot)
        head = text_of(app, "#approval-head")
        assert head.count("Rejected") == 1, head
        assert "¥600,000.00" in screen_text(app)

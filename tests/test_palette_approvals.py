"""The palette's approval and alert commands: offered by role and by what is on screen, and
doing what they say (checked against the database)."""

from __future__ import annotations

from sqlalchemy import select
from textual.command import CommandPalette
from textual.widgets import ContentSwitcher, DataTable

from crm_tui.domain.compliance.sensitive_changes import request_change
from crm_tui.screens.approval_detail import ApprovalDetailScreen
from crm_tui.screens.reject_modal import RejectModal
from crm_tui.store.models import Customer
from crm_tui.store.models_compliance import ApprovalRequest
from tests.compliance_world import build_book
from tests.test_tui_palette import _palette
from tests.tui_support import settle, signed_in_app

NEW_PHONE = "13912345678"


def _status(crm, rid: int) -> str:  # type: ignore[no-untyped-def]
    with crm.db.read() as s:
        return s.scalar(select(ApprovalRequest.status).where(ApprovalRequest.id == rid))


async def _choose(pilot, query: str, expect: str) -> str:  # type: ignore[no-untyped-def]
    text = await _palette(pilot, query, expect)
    assert expect in text, text
    await pilot.press("enter")
    await settle(pilot)
    assert not CommandPalette.is_open(pilot.app)
    return text


async def _close_palette(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("escape")
    await settle(pilot)


def _area(app) -> str | None:  # type: ignore[no-untyped-def]
    return app.screen.query_one("#area-switcher", ContentSwitcher).current


async def test_supervisor_decides_from_the_palette(sqlite_crm, sqlite_world) -> None:
    crm, world = sqlite_crm, sqlite_world
    book = build_book(crm, world)
    first = request_change(crm, world["rm1"], book.customers["c1"], "phone", NEW_PHONE, reason="来电")
    second = request_change(crm, world["rm1"], book.customers["c2"], "phone", "13600001111", reason="来电")
    app = signed_in_app(crm, world, "sup1")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        text = await _palette(pilot, "", "Sign out")
        assert "Open approval inbox" in text
        assert "Approve selected" not in text  # nothing highlighted in an inbox yet
        assert "Risk alerts" not in text  # a supervisor has no alert list
        await _close_palette(pilot)

        await _choose(pilot, "approval inbox", "Open approval inbox")
        assert _area(app) == "approvals"
        table = app.screen.query_one("#approval-list-decide", DataTable)
        assert app.focused is table and table.row_count == 2

        text = await _choose(pilot, "approve sel", "Approve selected…")
        assert f"#{first} Change Mobile of 张三" in text  # the help names the request
        assert _status(crm, first) == "approved"
        with crm.db.read() as s:
            enc = s.scalar(select(Customer.phone_enc).where(Customer.id == book.customers["c1"]))
        assert crm.keys.decrypt("phone", enc) == NEW_PHONE
        assert table.row_count == 1

        await _choose(pilot, "reject sel", "Reject selected…")
        assert isinstance(app.screen, RejectModal)
        assert app.screen.request_id == second
        await pilot.press("escape")
        await settle(pilot)
        assert _status(crm, second) == "pending"

        table.focus()
        await pilot.press("enter")  # the request open on its own screen
        await settle(pilot)
        assert isinstance(app.screen, ApprovalDetailScreen)
        await _choose(pilot, "approve sel", f"#{second} Change Mobile of 李四")
        assert _status(crm, second) == "approved"


async def test_commands_follow_the_role(sqlite_crm, sqlite_world) -> None:
    crm, world = sqlite_crm, sqlite_world
    book = build_book(crm, world)
    request_change(crm, world["rm1"], book.customers["c1"], "phone", NEW_PHONE, reason="来电")

    app = signed_in_app(crm, world, "rm1")  # a maker: her requests, no deciding, no alerts
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await _choose(pilot, "approval inbox", "Open approval inbox")
        assert _area(app) == "approvals"
        text = await _palette(pilot, "", "Sign out")
        assert "Approve selected" not in text and "Reject selected" not in text
        assert "Risk alerts" not in text

    app = signed_in_app(crm, world, "risk1")  # risk: the alert list
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await _choose(pilot, "risk al", "Risk alerts")
        assert _area(app) == "alerts"

    app = signed_in_app(crm, world, "svc1")  # the service desk: neither
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        text = await _palette(pilot, "", "Sign out")
        assert "Open approval inbox" not in text and "Risk alerts" not in text

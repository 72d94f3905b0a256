"""The privacy screens driven from the keyboard and checked against the database: a rights
request recorded from the profile, consent recorded there, compliance completing a deletion
in the f11 area, and the restricted view opened only with a reason."""

from __future__ import annotations

from sqlalchemy import select
from textual.widgets import DataTable, Input, Select

from crm_tui.domain.customers.search import search_customers
from crm_tui.domain.privacy import requests
from crm_tui.screens.privacy_area import RestrictedReasonModal
from crm_tui.screens.privacy_forms import ConsentModal, PrivacyRequestForm
from crm_tui.screens.privacy_restricted import RestrictedProfileScreen
from crm_tui.screens.profile import ProfileScreen
from crm_tui.store.models import AuditEvent, Customer
from crm_tui.store.models_privacy import AccessLog, ConsentRecord, PrivacyRequest
from tests.tui_support import build_book, screen_text, settle, signed_in_app


async def _profile(pilot, cid: int) -> ProfileScreen:  # type: ignore[no-untyped-def]
    pilot.app.open_customer(cid)
    await settle(pilot)
    assert isinstance(pilot.app.screen, ProfileScreen)
    return pilot.app.screen


async def test_rm_records_a_request_and_a_consent_from_the_profile(sqlite_crm, sqlite_world) -> None:
    crm, world = sqlite_crm, sqlite_world
    book = build_book(crm, world)
    app = signed_in_app(crm, world, "rm1")
    async with app.run_test(size=(120, 40)) as pilot:
        await _profile(pilot, book.zhang_san)
        await pilot.press("p")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, PrivacyRequestForm)
        form.query_one("#privacy-kind", Select).value = "restriction"
        await pilot.press("ctrl+s")  # a restriction without a purpose is refused in place
        await settle(pilot)
        assert isinstance(app.screen, PrivacyRequestForm)
        assert "name the consent purposes" in screen_text(app)
        form.query_one("#privacy-purpose", Select).value = "marketing_sms"
        form.query_one("#privacy-detail", Input).value = "不再接收营销短信"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        assert "recorded; compliance has it" in screen_text(app)

        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ConsentModal)
        assert "Marketing by SMS: no consent" in screen_text(app)
        app.screen.query_one("#consent-purpose", Select).value = "marketing_email"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen) and "Consent recorded" in screen_text(app)
    with crm.db.read() as s:
        req = s.scalars(select(PrivacyRequest)).one()
        assert (req.customer_id, req.kind, req.purposes, req.state) == (
            book.zhang_san, "restriction", "marketing_sms", "open")
        grant = s.scalars(select(ConsentRecord)).one()
        assert (grant.purpose, grant.granted, grant.notice_version) == (
            "marketing_email", True, "2026.1")
        assert s.scalars(select(AccessLog.action).where(
            AccessLog.customer_id == book.zhang_san)).all() == ["profile"]


async def test_compliance_completes_a_deletion_and_opens_the_restricted_view(
        sqlite_crm, sqlite_world) -> None:
    crm, world = sqlite_crm, sqlite_world
    book = build_book(crm, world)
    rid = requests.open_request(crm, world["rm1"], book.li_si, "deletion",
                                detail="客户销户后要求删除个人信息")
    app = signed_in_app(crm, world, "comp1")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "Privacy  1" in screen_text(app)  # the f11 badge
        await pilot.press("f11")
        await settle(pilot)
        table = app.screen.query_one("#privacy-list", DataTable)
        assert table.row_count == 1 and "李四" in screen_text(app)
        table.focus()
        await pilot.press("c")
        await settle(pilot)
        await pilot.press(*"依法限制处理")
        await pilot.press("enter")
        await settle(pilot)
        assert "completed" in screen_text(app)
        await pilot.press("o")  # every request, closed ones too
        await settle(pilot)
        assert "[restricted]" in screen_text(app)
        app.screen.query_one("#privacy-list", DataTable).focus()
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, RestrictedReasonModal)
        await pilot.press("enter")  # no reason: refused, nothing shown
        await settle(pilot)
        assert isinstance(app.screen, RestrictedReasonModal)
        await pilot.press(*"监管现场检查调阅")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RestrictedProfileScreen)
        text = screen_text(app)
        assert "restricted record" in text and "李四" in text and "820,000.00" in text
        await pilot.press("escape")
        await settle(pilot)
    assert search_customers(crm, world["rm1"], "李四") == []
    with crm.db.read() as s:
        assert s.scalar(select(Customer.restricted).where(Customer.id == book.li_si))
        assert s.scalar(select(PrivacyRequest.state).where(PrivacyRequest.id == rid)) == "completed"
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.restricted.open")).one()
        assert "监管现场检查调阅" in ev.after
        assert s.scalars(select(AccessLog.action).where(
            AccessLog.customer_id == book.li_si)).all() == ["restricted"]


async def test_compliance_makes_the_copy_file_then_completes(sqlite_crm, sqlite_world,
                                                             tmp_path, monkeypatch) -> None:
    import stat

    crm, world = sqlite_crm, sqlite_world
    monkeypatch.setenv("HOME", str(tmp_path))
    book = build_book(crm, world)
    rid = requests.open_request(crm, world["rm1"], book.zhang_san, "access")
    app = signed_in_app(crm, world, "comp1")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f11")
        await settle(pilot)
        app.screen.query_one("#privacy-list", DataTable).focus()
        await pilot.press("c")  # completing first is refused: no copy yet
        await settle(pilot)
        await pilot.press(*"已交付")
        await pilot.press("enter")
        await settle(pilot)
        assert "Make the access-and-copy file" in screen_text(app)
        await pilot.press("escape")  # the form holds text: Esc asks before discarding it
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        assert "Access-and-copy file written" in screen_text(app)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press(*"已当面交付客户")
        await pilot.press("enter")
        await settle(pilot)
    (copy,) = tmp_path.glob("*.xlsx")
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600 and str(rid) in copy.name
    with crm.db.read() as s:
        assert s.scalar(select(PrivacyRequest.state).where(PrivacyRequest.id == rid)) == "completed"

"""The 360° profile: what it shows, and every change made from it, checked on screen and in
the database (rows and audit events)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from textual.widgets import DataTable, Input, TextArea

from crm_tui.domain.customers import interactions, records
from crm_tui.domain.customers.interactions import NewInteraction
from crm_tui.domain.kernel.context import Crm
from crm_tui.screens.edit_customer import EditCustomerForm
from crm_tui.screens.interaction_form import InteractionForm
from crm_tui.screens.profile import INTERACTION_PAGE, ProfileScreen
from crm_tui.screens.reveal import RevealModal
from crm_tui.store.models import AuditEvent, Customer, CustomerTag, Interaction, Tag
from crm_tui.widgets.relationship_tree import RelationshipTree
from crm_tui.widgets.tag_list import TagOptions
from tests.conftest import World
from tests.tui_support import (
    ZHANG_SAN_ID,
    Book,
    build_book,
    screen_text,
    settle,
    signed_in_app,
    text_of,
)


async def _open(pilot, customer_id: int) -> ProfileScreen:  # type: ignore[no-untyped-def]
    pilot.app.open_customer(customer_id)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ProfileScreen)
    return screen


def _audit(crm: Crm, action: str) -> list[AuditEvent]:
    with crm.db.read() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


async def test_profile_shows_the_whole_customer(sqlite_crm: Crm, sqlite_world: World) -> None:
    book = build_book(sqlite_crm, sqlite_world)
    app = signed_in_app(sqlite_crm, sqlite_world)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, book.zhang_san)
        text = screen_text(app)
        for expected in ("张三", "*" * 14 + ZHANG_SAN_ID[-4:], "1980 (year only)", "138****5678",
                         "***************3445", "C3 Balanced", "¥6,580,000.00", "67%",
                         "Address proof", "Awaiting verification", "expiring soon",
                         "High net worth", "rule", "重点维护", "manual",
                         "年度资产配置回顾", "2025-06-10 09:30", "2023-03-01 10:00"):
            assert expected in text, expected
        assert ZHANG_SAN_ID not in text and "13812345678" not in text
        # the masked ID never stands beside the full birth date (re-identification)
        assert "1980-05-12" not in text and "110***" not in text

        await pilot.press("2")
        text = screen_text(app)
        assert "安享稳健六个月持有期理财" in text and "¥3,000,000.00" in text

        await pilot.press("4")
        tree = app.screen.query_one(RelationshipTree)
        text = screen_text(app)
        assert "Spouse  李四" in text and "王五  (outside your book)" in text
        tree.focus()
        partner = next(n for n in tree.root.children if n.data and n.data.name == "王五")
        tree.move_cursor(partner)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.customer_id == book.zhang_san  # not openable
        assert "王五 is outside your book" in text_of(app, "#profile-message")
        spouse = next(n for n in tree.root.children if n.data and n.data.name == "李四")
        tree.move_cursor(spouse)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen) and app.screen.customer_id == book.li_si
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.customer_id == book.zhang_san


async def test_log_interaction_with_inline_errors(sqlite_crm: Crm, sqlite_world: World) -> None:
    book = build_book(sqlite_crm, sqlite_world)
    app = signed_in_app(sqlite_crm, sqlite_world)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, book.zhang_san)
        await pilot.press("i")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, InteractionForm)
        form.query_one("#next-action-due", Input).value = "2099-13-01"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "“2099-13-01” is not a date" in text_of(app, "#row-next_action_due .field-error")
        form.query_one("#next-action-due", Input).value = "2099-01-31"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert text_of(app, "#row-subject .field-error") == "is required"
        assert isinstance(app.screen, InteractionForm)

        form.query_one("#channel").value = "wechat"
        form.query_one("#subject", Input).value = "理财到期提醒"
        form.query_one("#summary", TextArea).text = "客户同意续作一年期理财。"
        form.query_one("#next-action", Input).value = "发送产品说明书"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        assert "Interaction logged." in text_of(app, "#profile-message")
        table = app.screen.query_one("#interactions", DataTable)
        assert str(table.get_row_at(0)[3]) == "理财到期提醒"
    with sqlite_crm.db.read() as s:
        row = s.scalars(select(Interaction).where(Interaction.subject == "理财到期提醒")).one()
    assert (row.customer_id, row.channel, row.next_action) == (book.zhang_san, "wechat", "发送产品说明书")
    assert str(row.next_action_due) == "2099-01-31" and row.staff_id == sqlite_world["rm1"].id
    assert len(_audit(sqlite_crm, "interaction.log")) == 4  # three from the fixture


async def test_interactions_page_by_keyset(sqlite_crm: Crm, sqlite_world: World) -> None:
    book = build_book(sqlite_crm, sqlite_world)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for n in range(INTERACTION_PAGE + 5):
        interactions.log_interaction(sqlite_crm, sqlite_world["rm1"], book.li_si, NewInteraction(
            channel="phone", subject=f"回访 {n:02d}", occurred_at=start + timedelta(days=n)))
    app = signed_in_app(sqlite_crm, sqlite_world)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, book.li_si)
        await pilot.press("3")
        table = app.screen.query_one("#interactions", DataTable)
        assert table.row_count == INTERACTION_PAGE
        table.focus()
        await pilot.press("ctrl+end")
        await settle(pilot)
        assert table.row_count == INTERACTION_PAGE + 5
        assert str(table.get_row_at(0)[3]) == "回访 24" and str(table.get_row_at(24)[3]) == "回访 00"
        assert "Interactions: 25" in screen_text(app)


async def test_tags_add_and_remove_manual_only(sqlite_crm: Crm, sqlite_world: World) -> None:
    book = build_book(sqlite_crm, sqlite_world)
    app = signed_in_app(sqlite_crm, sqlite_world)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, book.zhang_san)
        await pilot.press("t")
        assert app.focused is app.screen.query_one("#tag-input")
        app.screen.query_one("#tag-input", Input).value = "家族信托意向"
        await pilot.press("enter")
        await settle(pilot)
        assert "Tag “家族信托意向” added." in text_of(app, "#profile-message")
        options = app.screen.query_one(TagOptions)
        assert any(str(o.prompt).startswith("● 家族信托意向") for o in options.options)

        options.focus()
        options.highlighted = 0  # the rule tag comes first
        await pilot.press("delete")
        await settle(pilot)
        assert "is set by a policy rule" in text_of(app, "#profile-message")

        options.highlighted = [o.id for o in options.options].index(
            next(str(t.id) for t in app.screen.view.tags if t.name == "家族信托意向"))
        await pilot.press("delete")
        await settle(pilot)
        assert "Tag removed." in text_of(app, "#profile-message")
        assert "家族信托意向" not in screen_text(app)
    with sqlite_crm.db.read() as s:
        names = set(s.scalars(select(Tag.name).join(CustomerTag, CustomerTag.tag_id == Tag.id)
                              .where(CustomerTag.customer_id == book.zhang_san)))
    assert names == {"高净值", "重点维护"}
    assert [e.after for e in _audit(sqlite_crm, "tag.add")][-1] == '{"tag": "家族信托意向"}'
    assert len(_audit(sqlite_crm, "tag.remove")) == 1


async def test_reveal_needs_a_reason_is_audited_and_remasks(sqlite_crm: Crm,
                                                            sqlite_world: World) -> None:
    book = build_book(sqlite_crm, sqlite_world)
    app = signed_in_app(sqlite_crm, sqlite_world)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, book.zhang_san)
        app.screen.query_one("#masked-phone").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RevealModal)
        assert app.screen.query_one("#reveal-field").value == "phone"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert text_of(app, "#row-reason .field-error") == "say why you need to see it"
        app.screen.query_one("#reveal-reason", Input).value = "客户临柜核对手机号"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        assert "13812345678" in screen_text(app)
        assert "recorded in the audit log" in text_of(app, "#profile-message")

        await pilot.press("i")  # another screen on top: the value is hidden again
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        text = screen_text(app)
        assert "13812345678" not in text and "138****5678" in text
    events = _audit(sqlite_crm, "customer.reveal")
    assert len(events) == 1 and "客户临柜核对手机号" in events[0].after
    assert "13812345678" not in events[0].after


async def test_edit_with_validation_error_then_save(sqlite_crm: Crm, sqlite_world: World) -> None:
    book = build_book(sqlite_crm, sqlite_world)
    app = signed_in_app(sqlite_crm, sqlite_world)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, book.zhang_san)
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, EditCustomerForm)
        assert form.query_one("#edit-annual_income", Input).value == "1200000.00"
        form.query_one("#edit-email", Input).value = "zhangsan-at-example"
        form.query_one("#edit-annual_income", Input).value = "-5"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert text_of(app, "#row-email .field-error") == "is not an e-mail address"
        assert "must not be negative" in text_of(app, "#row-annual_income .field-error")
        form.query_one("#edit-email", Input).value = "zs@example.cn"
        form.query_one("#edit-annual_income", Input).value = "1,500,000"
        form.query_one("#edit-occupation", Input).value = "制造业企业董事长"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        assert "Saved (version 2)." in text_of(app, "#profile-message")
        text = screen_text(app)
        assert "zs@example.cn" in text and "制造业企业董事长" in text and "¥1,500,000.00" in text
    with sqlite_crm.db.read() as s:
        c = s.get(Customer, book.zhang_san)
    assert c is not None
    assert (c.email, c.occupation, c.annual_income_fen, c.version) == (
        "zs@example.cn", "制造业企业董事长", 150_000_000, 2)
    assert len(_audit(sqlite_crm, "customer.update")) == 1


async def test_edit_conflict_offers_reload(sqlite_crm: Crm, sqlite_world: World) -> None:
    book: Book = build_book(sqlite_crm, sqlite_world)
    app = signed_in_app(sqlite_crm, sqlite_world)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, book.zhang_san)
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, EditCustomerForm)
        # Meanwhile the supervisor saves the same customer.
        records.update_customer(sqlite_crm, sqlite_world["sup1"], book.zhang_san, 1,
                                  {"address": "北京市海淀区中关村大街1号"})
        form.query_one("#edit-occupation", Input).value = "退休"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Changed by 陈静 (sup1) at " in text_of(app, "#form-error")  # who and when
        assert not form.query_one("#form-reload").has_class("-hidden")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert form.query_one("#edit-address", Input).value == "北京市海淀区中关村大街1号"
        assert form.query_one("#edit-occupation", Input).value == "企业高管"
        form.query_one("#edit-occupation", Input).value = "退休"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
    with sqlite_crm.db.read() as s:
        c = s.get(Customer, book.zhang_san)
    assert c is not None
    assert (c.address, c.occupation, c.version) == ("北京市海淀区中关村大街1号", "退休", 3)


async def test_service_desk_sees_no_edit_keys(sqlite_crm: Crm, sqlite_world: World) -> None:
    book = build_book(sqlite_crm, sqlite_world)
    app = signed_in_app(sqlite_crm, sqlite_world, "svc1")
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, book.zhang_san)
        footer = screen_text(app).splitlines()[-1]
        assert "Log interaction" in footer
        assert "Edit" not in footer and "Reveal" not in footer and "Add tag" not in footer
        await pilot.press("e")
        app.screen.query_one("#masked-phone").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)  # neither edit form nor reveal dialog

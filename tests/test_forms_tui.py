"""The form engine in the TUI: an admin defines a field in the custom-fields area, an RM
sees it at once on the profile, edits it with an inline error, and the value is stored."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Select

from crm_tui.domain.forms import definitions as D
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.screens.custom_fields_form import CustomFieldsForm
from crm_tui.screens.field_definition_form import FieldDefinitionForm
from crm_tui.store.models import Customer
from tests.tui_support import build_book, screen_text, settle, signed_in_app, text_of


async def _open_profile(pilot, customer_id: int) -> None:
    from crm_tui.screens.profile import ProfileScreen

    await pilot.app.push_screen(ProfileScreen(customer_id))
    await settle(pilot)


async def test_admin_defines_a_field_in_the_area(sqlite_crm, sqlite_world) -> None:
    app = signed_in_app(sqlite_crm, sqlite_world, "admin")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f10")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FieldDefinitionForm)
        form.query_one("#fd-key", Input).value = "source_campaign"
        form.query_one("#fd-type", Select).value = "choice"
        form.query_one("#fd-label_zh", Input).value = "来源活动"
        form.query_one("#fd-label_en", Input).value = "Source campaign"
        await pilot.press("ctrl+s")
        await settle(pilot)
        # a choice field without choices is refused under the field
        assert "needs --choices" in text_of(app, "#row-choices .field-error")
        form.query_one("#fd-choices", Input).value = "春季理财节, 代发工资, 老带新"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, FieldDefinitionForm)
        assert "Defined customer.source_campaign" in screen_text(app)
        table = app.screen.query_one("#fields-list", DataTable)
        assert table.row_count == 1
    views = D.list_fields(sqlite_crm, system_actor("t"), "customer")
    assert [(v.key, v.choices) for v in views] == [
        ("source_campaign", ("春季理财节", "代发工资", "老带新"))]


async def test_rm_sees_and_saves_a_custom_field_on_the_profile(sqlite_crm, sqlite_world) -> None:
    book = build_book(sqlite_crm, sqlite_world)
    D.add_field(sqlite_crm, system_actor("t"), "customer", "wechat_id", label_zh="微信号",
                label_en="WeChat ID", pattern=r"[A-Za-z][-_A-Za-z0-9]{5,19}")
    D.add_field(sqlite_crm, system_actor("t"), "customer", "campaign", type="choice",
                label_zh="来源活动", label_en="Source campaign", choices=["春季理财节", "代发工资"])
    app = signed_in_app(sqlite_crm, sqlite_world, "rm1")
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_profile(pilot, book.zhang_san)
        assert "WeChat ID" in screen_text(app) and "Source campaign" in screen_text(app)
        await pilot.press("u")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, CustomFieldsForm)
        form.query_one("#cf-wechat_id", Input).value = "1bad"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "does not match the required pattern" in text_of(app, "#row-wechat_id .field-error")
        form.query_one("#cf-wechat_id", Input).value = "zhang_san88"
        form.query_one("#cf-campaign", Select).value = "代发工资"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, CustomFieldsForm)
        assert "zhang_san88" in screen_text(app)
    with sqlite_crm.db.read() as s:
        c = s.get(Customer, book.zhang_san)
        assert c.custom == {"wechat_id": "zhang_san88", "campaign": "代发工资"}
        assert c.version == 2

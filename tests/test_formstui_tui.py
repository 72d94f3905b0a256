"""The custom-field gaps in the TUI, driven through the real app at 80×24 (and the new
opportunity also at 140×45), each checked on screen and in the database:

- an RM asks from a lead's `u` form (Ctrl+R) for a sensitive custom field to change: the
  value is validated like a save (the rule under the field), a pending request opens,
  nothing is stored on the lead until a supervisor approves, then the form shows it masked;
- a new opportunity from the pipeline board (`a`: customer picked by search, expected
  amount, custom fields with inline errors) and from the customer profile (`o`);
- the lead list (`f`) and the board (`f`, the custom fields below the built-in filter)
  filtered by a filterable custom field, and the filter cleared again.
"""

from __future__ import annotations

import json

import pytest
from sqlmodel import select
from textual.widgets import Input, Select

from crm_tui.domain.compliance import approvals
from crm_tui.domain.forms import definitions as D
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.sales import leads, opportunities
from crm_tui.domain.sales.custom_values import update_opportunity_custom
from crm_tui.screens.custom_change_form import CustomChangeForm
from crm_tui.screens.custom_fields_form import CustomFieldsForm, CustomFilterForm
from crm_tui.screens.opportunity_form import NewOpportunityForm
from crm_tui.screens.pipeline_forms import FilterForm
from crm_tui.store.models_compliance import ApprovalRequest
from crm_tui.store.models_sales import Lead, Opportunity
from tests.helpers import make_customer
from tests.tui_support import screen_text, settle, signed_in_app, text_of

ADMIN = system_actor("t")
SMALL = (80, 24)


async def fields_loaded(pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait until the form's custom-fields section has loaded its fields (a worker)."""
    from crm_tui.widgets.custom_fields_section import CustomFieldsSection

    for _ in range(200):
        await settle(pilot)
        if pilot.app.screen.query_one(CustomFieldsSection).editable:
            return


def _rm1_lead(crm, world, name: str, custom: dict[str, str] | None = None) -> int:
    lid = leads.create_lead(crm, world["sup1"], {"name": name, "source": "web",
                                                 "branch_code": "BJ01", "custom": custom or {}})
    leads.reassign(crm, world["sup1"], lid, "rm1")
    return lid


async def test_rm_requests_a_sensitive_lead_field_change(sqlite_crm, sqlite_world) -> None:
    crm, world = sqlite_crm, sqlite_world
    D.add_field(crm, ADMIN, "lead", "wechat_id", label_zh="微信号", label_en="WeChat ID",
                pattern=r"wx[a-z0-9]{4,}", sensitive=True)
    lid = _rm1_lead(crm, world, "客户甲")
    app = signed_in_app(crm, world, "rm1")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, CustomFieldsForm)
        shown = screen_text(app)
        assert text_of(app, "#cf-masked-wechat_id") == "—" and "Ctrl+R" in shown
        await pilot.press("ctrl+r")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, CustomChangeForm)
        form.query_one("#cc-value", Input).value = "WX-1"
        form.query_one("#cc-reason", Input).value = "客户告知新微信号"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "does not match the required pattern" in text_of(
            app, "#row-new_value .field-error")
        with crm.db.read() as s:
            assert s.exec(select(ApprovalRequest)).first() is None
        form.query_one("#cc-value", Input).value = "wxzhang88"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, (CustomChangeForm, CustomFieldsForm))
        with crm.db.read() as s:
            req = s.exec(select(ApprovalRequest)).one()
            lead = s.get(Lead, lid)
        assert f"Request #{req.id} opened: the change to WeChat ID of Lead #{lid}" in text_of(
            app, "#lead-message")
        assert (req.kind, req.status, req.target_entity, req.target_id) == (
            "custom_field_change", "pending", "lead", str(lid))
        assert "wechat_id" not in lead.custom and "wxzhang88" not in json.dumps(req.payload)
        await pilot.press("u")  # the record says the change waits
        await settle(pilot)
        assert text_of(app, "#cf-masked-wechat_id") == \
            f"—  (change #{req.id} awaiting approval)"
        await pilot.press("escape")
        await settle(pilot)

    from crm_tui.screens.approval_detail import ApprovalDetailScreen

    app = signed_in_app(crm, world, "sup1")  # the supervisor reads it in her inbox
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await app.push_screen(ApprovalDetailScreen(req.id or 0))
        await settle(pilot)
        shown = screen_text(app)
    assert "WeChat ID" in shown and "w*******8" in shown and "wxzhang88" not in shown
    assert "客户告知新微信号" in shown  # the maker's reason
    approvals.approve(crm, world["sup1"], req.id or 0)  # her decision (the inbox's own tests)
    with crm.db.read() as s:
        stored = s.get(Lead, lid).custom
    assert "wechat_id" in stored and "wxzhang88" not in json.dumps(stored)
    app = signed_in_app(crm, world, "rm1")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        shown = screen_text(app)
        assert text_of(app, "#cf-masked-wechat_id") == "w*******8"
    assert "WeChat ID" in shown and "w*******8" in shown and "wxzhang88" not in shown
    assert "awaiting approval" not in shown


async def test_the_service_desk_is_not_offered_a_change_request(sqlite_crm, sqlite_world) -> None:
    """Only roles the domain lets ask see Ctrl+R; the masked value is still shown."""
    from crm_tui.domain.service.tickets import create_ticket

    crm, world = sqlite_crm, sqlite_world
    D.add_field(crm, ADMIN, "ticket", "card_no", label_zh="卡号", label_en="Card no.",
                sensitive=True)
    cid = make_customer(crm, world["rm1"], "周晓梅")
    create_ticket(crm, world["svc1"], cid, {"type": "inquiry", "subject": "换卡",
                                            "custom": {"card_no": "6222000011112222"}})
    app = signed_in_app(crm, world, "svc1")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)
        await pilot.press("v")  # team → all
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert isinstance(app.screen, CustomFieldsForm)
        assert text_of(app, "#cf-masked-card_no") == "6**************2"
        assert "Ctrl+R" not in screen_text(app)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, CustomFieldsForm)


@pytest.mark.parametrize("size", [SMALL, (140, 45)])
async def test_new_opportunity_from_the_board(sqlite_crm, sqlite_world, size) -> None:
    crm, world = sqlite_crm, sqlite_world
    D.add_field(crm, ADMIN, "opportunity", "channel", type="choice", label_zh="渠道",
                label_en="Channel", choices=["网点", "手机银行"], required=True)
    D.add_field(crm, ADMIN, "opportunity", "referral", label_zh="推荐码", label_en="Referral",
                pattern=r"R\d{4}")
    cid = make_customer(crm, world["rm1"], "王建国")
    app = signed_in_app(crm, world, "rm1")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        await pilot.press("a")
        await fields_loaded(pilot)
        form = app.screen
        assert isinstance(form, NewOpportunityForm)
        await pilot.press("ctrl+s")  # nothing chosen yet
        await settle(pilot)
        assert text_of(app, "#row-customer .field-error") == "choose a customer"
        form.query_one("#picker-query", Input).value = "王建国"
        form.query_one("CustomerPicker").search("王建国")
        await settle(pilot)
        assert "Chosen: 王建国" in text_of(app, "#picker-status")
        form.query_one("#opp-amount", Input).value = "-1"
        form.query_one("#cf-referral", Input).value = "r12"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "does not match the required pattern" in text_of(
            app, "#row-referral .field-error")
        assert "negative" in text_of(app, "#row-amount .field-error")
        with crm.db.read() as s:
            assert s.exec(select(Opportunity)).first() is None
        form.query_one("#opp-amount", Input).value = "500,000"
        form.query_one("#cf-referral", Input).value = "R0042"
        form.query_one("#cf-channel", Select).value = "手机银行"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, NewOpportunityForm)
        with crm.db.read() as s:
            opp = s.exec(select(Opportunity)).one()
        assert (opp.customer_id, opp.stage, opp.amount_fen) == (cid, "needs", 50_000_000)
        assert opp.custom == {"channel": "手机银行", "referral": "R0042"}
        assert text_of(app, "#board-message") == \
            f"Opportunity #{opp.id} opened for 王建国 at the needs stage."
        board = app.screen.query_one("#pipeline")
        assert [c.id for c in board.column("needs").cards] == [opp.id]
        assert "王建国" in screen_text(app)


async def test_new_opportunity_from_the_profile(sqlite_crm, sqlite_world) -> None:
    from crm_tui.screens.profile import ProfileScreen

    crm, world = sqlite_crm, sqlite_world
    cid = make_customer(crm, world["rm1"], "李秀英")
    app = signed_in_app(crm, world, "rm1")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await app.push_screen(ProfileScreen(cid))
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, NewOpportunityForm) and "李秀英" in screen_text(app)
        form.query_one("#opp-amount", Input).value = "80000"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        assert "opened for 李秀英" in text_of(app, "#profile-message")
    with crm.db.read() as s:
        opp = s.exec(select(Opportunity)).one()
    assert (opp.customer_id, opp.amount_fen, opp.owner_id) == (cid, 8_000_000, world["rm1"].id)


async def test_lead_list_filters_by_a_custom_field(sqlite_crm, sqlite_world) -> None:
    crm, world = sqlite_crm, sqlite_world
    D.add_field(crm, ADMIN, "lead", "campaign", type="choice", label_zh="来源活动",
                label_en="Campaign", choices=["春季理财节", "代发工资"], filterable=True)
    payroll = _rm1_lead(crm, world, "客户甲", {"campaign": "代发工资"})
    spring = _rm1_lead(crm, world, "客户乙", {"campaign": "春季理财节"})
    plain = _rm1_lead(crm, world, "客户丙")
    app = signed_in_app(crm, world, "rm1")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        pane = app.screen.query_one("LeadListPane")
        assert [r.id for r in pane.rows] == [plain, spring, payroll]
        await pilot.press("f")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, CustomFilterForm)
        form.query_one("#cff-campaign", Input).value = "双十一"  # not a choice: said inline
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "not one of the allowed values" in text_of(app, "#row-campaign .field-error")
        form.query_one("#cff-campaign", Input).value = "代发工资"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert [r.id for r in pane.rows] == [payroll]
        assert "campaign=代发工资" in text_of(app, "#lead-view-line")
        assert "客户甲" in screen_text(app) and "客户乙" not in screen_text(app)
        await pilot.press("f")
        await settle(pilot)
        app.screen.query_one("#cff-campaign", Input).value = ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert [r.id for r in pane.rows] == [plain, spring, payroll]
        assert "campaign=" not in text_of(app, "#lead-view-line")


async def test_board_filters_by_a_custom_field(sqlite_crm, sqlite_world) -> None:
    crm, world = sqlite_crm, sqlite_world
    D.add_field(crm, ADMIN, "opportunity", "vip", type="bool", label_zh="贵宾",
                label_en="VIP", filterable=True)
    rm1 = world["rm1"]
    cid = make_customer(crm, rm1, "张三")
    vip, other = (opportunities.create_opportunity(crm, rm1, cid) for _ in range(2))
    update_opportunity_custom(crm, rm1, vip, 1, {"vip": "是"})
    update_opportunity_custom(crm, rm1, other, 1, {"vip": "否"})
    app = signed_in_app(crm, world, "rm1")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        board = app.screen.query_one("#pipeline")
        assert {c.id for c in board.column("needs").cards} == {vip, other}
        await pilot.press("f")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FilterForm) and "VIP" in screen_text(app)
        form.query_one("#cff-vip", Input).value = "yes"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, FilterForm)
        assert [c.id for c in board.column("needs").cards] == [vip]
        assert board.column("needs").count == 1
        assert "vip=yes" in text_of(app, "#board-filter-line")
        await pilot.press("f")
        await settle(pilot)
        assert app.screen.query_one("#cff-vip", Input).value == "yes"  # the filter in force
        app.screen.query_one("#cff-vip", Input).value = ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert {c.id for c in board.column("needs").cards} == {vip, other}
        assert "vip=" not in text_of(app, "#board-filter-line")

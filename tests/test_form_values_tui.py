"""Custom fields beyond the profile, in the TUI: an admin defines a ticket field in the
custom-fields area, a service agent sees it at once in the new-ticket form (inline error
naming the rule, then saved), edits it from the queue (`u`) and filters the queue by it
(`f`); a lead's form carries the lead fields; the approval detail of a policy change
reads as words with its measured impact. Screen and database are both checked."""

from __future__ import annotations

from sqlmodel import select
from textual.widgets import Input, Select

from crm_tui.domain.forms import definitions as D
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.screens.custom_fields_form import CustomFieldsForm, CustomFilterForm
from crm_tui.screens.field_definition_form import FieldDefinitionForm
from crm_tui.screens.ticket_forms import NewTicketModal
from crm_tui.store.models_sales import Lead
from crm_tui.store.models_service import Ticket
from tests.tui_support import build_book, screen_text, settle, signed_in_app, text_of


async def fields_loaded(pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait until the form's custom-fields section has loaded its fields (a worker)."""
    from crm_tui.widgets.custom_fields_section import CustomFieldsSection

    for _ in range(200):
        await settle(pilot)
        if pilot.app.screen.query_one(CustomFieldsSection).editable:
            return


async def test_admin_adds_a_ticket_field_the_agent_fills_it_in(sqlite_crm, sqlite_world) -> None:
    book = build_book(sqlite_crm, sqlite_world)
    app = signed_in_app(sqlite_crm, sqlite_world, "admin")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f10")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FieldDefinitionForm)
        form.query_one("#fd-entity", Select).value = "ticket"
        form.query_one("#fd-key", Input).value = "channel_ref"
        form.query_one("#fd-label_zh", Input).value = "渠道单号"
        form.query_one("#fd-label_en", Input).value = "Channel ref"
        form.query_one("#fd-pattern", Input).value = r"[A-Z]{2}\d{4}"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, FieldDefinitionForm)

    from crm_tui.screens.profile import ProfileScreen

    app = signed_in_app(sqlite_crm, sqlite_world, "svc1")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(ProfileScreen(book.zhang_san))
        await settle(pilot)
        await pilot.press("n")
        await fields_loaded(pilot)
        form = app.screen
        assert isinstance(form, NewTicketModal)
        assert "Channel ref" in screen_text(app)
        form.query_one("#ticket-subject", Input).value = "换卡进度"
        form.query_one("#cf-channel_ref", Input).value = "wx1"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "does not match the required pattern" in text_of(
            app, "#row-channel_ref .field-error")
        form.query_one("#cf-channel_ref", Input).value = "WX0042"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, NewTicketModal)
    with sqlite_crm.db.read() as s:
        ticket = s.exec(select(Ticket)).one()
    assert ticket.subject == "换卡进度" and ticket.custom == {"channel_ref": "WX0042"}


async def test_queue_edits_and_filters_by_a_custom_field(sqlite_crm, sqlite_world) -> None:
    from crm_tui.domain.service.tickets import create_ticket

    book = build_book(sqlite_crm, sqlite_world)
    D.add_field(sqlite_crm, system_actor("t"), "ticket", "severity", type="choice",
                label_zh="严重程度", label_en="Severity", choices=["低", "高"], filterable=True)
    svc = sqlite_world["svc1"]
    low = create_ticket(sqlite_crm, svc, book.zhang_san, {"type": "inquiry", "subject": "甲事",
                                                          "custom": {"severity": "低"}})
    high = create_ticket(sqlite_crm, svc, book.zhang_san, {"type": "inquiry", "subject": "乙事",
                                                           "custom": {"severity": "高"}})
    app = signed_in_app(sqlite_crm, sqlite_world, "svc1")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)
        await pilot.press("v")  # team → all
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, CustomFilterForm)
        form.query_one("#cff-severity", Input).value = "高"
        await pilot.press("ctrl+s")
        await settle(pilot)
        pane = app.screen.query_one("TicketQueuePane")
        assert [r.id for r in pane.rows] == [high]
        assert "severity=高" in screen_text(app)
        await pilot.press("u")
        await settle(pilot)
        edit = app.screen
        assert isinstance(edit, CustomFieldsForm)
        edit.query_one("#cf-severity", Select).value = "低"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, CustomFieldsForm)
        assert [r.id for r in pane.rows] == []  # no longer 高
    with sqlite_crm.db.read() as s:
        assert s.get(Ticket, high).custom == {"severity": "低"}
        assert s.get(Ticket, low).custom == {"severity": "低"}


async def test_the_lead_form_carries_the_lead_fields(sqlite_crm, sqlite_world) -> None:
    D.add_field(sqlite_crm, system_actor("t"), "lead", "campaign", type="choice",
                label_zh="来源活动", label_en="Campaign", choices=["春季理财节", "代发工资"])
    D.add_field(sqlite_crm, system_actor("t"), "lead", "referrer", label_zh="推荐人",
                label_en="Referrer", required=True)
    app = signed_in_app(sqlite_crm, sqlite_world, "sup1")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        untouched = app.screen
        await pilot.press("escape")  # nothing typed: closes without asking
        await settle(pilot)
        assert app.screen is not untouched and "Discard" not in screen_text(app)
        await pilot.press("a")
        await fields_loaded(pilot)
        form = app.screen
        form.query_one("#f-name", Input).value = "客户甲"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "is required" in text_of(app, "#row-referrer .field-error")
        form.query_one("#cf-campaign", Select).value = "代发工资"
        form.query_one("#cf-referrer", Input).value = "王芳"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is not form
    with sqlite_crm.db.read() as s:
        lead = s.exec(select(Lead)).one()
    assert lead.name == "客户甲" and lead.custom == {"campaign": "代发工资", "referrer": "王芳"}


async def test_policy_change_detail_reads_in_words_with_impact(sqlite_crm, sqlite_world) -> None:
    from crm_tui.domain.compliance.policy_changes import propose_policy_text
    from crm_tui.domain.policy.document import default_policy_text
    from crm_tui.screens.approval_detail import ApprovalDetailScreen

    text = default_policy_text().replace("first_contact_hours = 24", "first_contact_hours = 12")
    assert "first_contact_hours = 12" in text
    rid = propose_policy_text(sqlite_crm, sqlite_world["admin"], text)
    app = signed_in_app(sqlite_crm, sqlite_world, "comp1")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(ApprovalDetailScreen(rid))
        await settle(pilot)
        shown = text_of(app, "#approval-review")
    assert shown.splitlines() == [
        "What changes:", "  sales.first_contact_hours: 24 → 12",
        "Impact on today's data:", "  customers re-tagged: 0",
        "  pending requests that would climb another chain: 0",
        "  assignment and SLA rules that change: 1",
        "    sales.first_contact_hours: 24 → 12"]


async def test_customer_search_takes_a_custom_field_filter(sqlite_crm, sqlite_world) -> None:
    from textual.widgets import DataTable

    from crm_tui.domain.customers.custom_values import update_custom_fields
    from tests.tui_support import search

    book = build_book(sqlite_crm, sqlite_world)
    D.add_field(sqlite_crm, system_actor("t"), "customer", "tier", type="choice",
                label_zh="层级", label_en="Tier", choices=["金卡", "白金"], filterable=True)
    rm1 = sqlite_world["rm1"]
    update_custom_fields(sqlite_crm, rm1, book.li_si, 1, {"tier": "白金"})
    app = signed_in_app(sqlite_crm, sqlite_world, "rm1")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await search(pilot, "tier=白金")
        table = app.screen.query_one("#search-results", DataTable)
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == ["李四"]
        await search(pilot, "tier=铜卡")
        assert "Tier" in screen_text(app) and table.row_count == 0


async def test_field_definition_request_detail_reads_in_words(sqlite_crm, sqlite_world) -> None:
    from crm_tui.domain.compliance.field_definition_changes import submit_field_change
    from crm_tui.domain.policy.document import activate_policy, default_policy_text
    from crm_tui.screens.approval_detail import ApprovalDetailScreen

    D.add_field(sqlite_crm, system_actor("t"), "ticket", "severity", type="choice",
                label_zh="严重程度", label_en="Severity", choices=["低", "高"])
    text = default_policy_text().replace("definition_changes_need_approval = false",
                                         "definition_changes_need_approval = true")
    with sqlite_crm.db.write() as s:
        activate_policy(sqlite_crm.db, s, system_actor("t"), text)
    sqlite_crm.forget_policy()
    rid = submit_field_change(sqlite_crm, sqlite_world["admin"], "edit", "ticket", "severity",
                              {"choices": ["低", "中", "高"], "required": True}).request_id
    app = signed_in_app(sqlite_crm, sqlite_world, "comp1")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(ApprovalDetailScreen(rid))
        await settle(pilot)
        assert text_of(app, "#approval-review").splitlines() == [
            "What changes:", "  ticket.severity required: ✗ → ✓",
            "  ticket.severity choices: 低, 高 → 低, 中, 高"]
        assert "Change field ticket.severity" in screen_text(app)

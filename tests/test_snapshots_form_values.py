"""SVG snapshot of the new-ticket form with the ticket's custom fields (a section of its
own under the built-in fields), in Chinese, at 120×40.

Update with `pytest tests/test_snapshots_form_values.py --snapshot-update`, after looking.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from crm_tui import i18n
from crm_tui.domain.forms import definitions as D
from crm_tui.domain.kernel.actor import system_actor
from tests.tui_support import build_book, settle, signed_in_app

Compare = Callable[..., bool]


@pytest.fixture
def chinese() -> Iterator[None]:
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def test_new_ticket_form_with_custom_fields(snap_compare: Compare, sqlite_crm, sqlite_world,
                                            chinese: None) -> None:
    book = build_book(sqlite_crm, sqlite_world)
    admin = system_actor("t")
    D.add_field(sqlite_crm, admin, "ticket", "callback_window", type="choice",
                label_zh="回访时段", label_en="Callback window", choices=["上午", "下午", "晚间"],
                section="回访", help_zh="客户方便接听电话的时段", help_en="When the customer can talk")
    D.add_field(sqlite_crm, admin, "ticket", "channel_ref", label_zh="渠道单号",
                label_en="Channel ref", pattern=r"[A-Z]{2}\d{4}", section="回访")
    D.add_field(sqlite_crm, admin, "ticket", "urgent_callback", type="bool",
                label_zh="需当日回电", label_en="Call back today", section="回访")

    async def open_form(pilot) -> None:  # type: ignore[no-untyped-def]
        from crm_tui.screens.ticket_forms import NewTicketModal
        from crm_tui.widgets.custom_fields_section import CustomFieldsSection

        await settle(pilot)
        await pilot.app.push_screen(NewTicketModal(book.zhang_san, "张三"))
        for _ in range(200):  # the section loads its fields in a worker
            await settle(pilot)
            if pilot.app.screen.query_one(CustomFieldsSection).editable:
                break
        await settle(pilot)

    assert snap_compare(signed_in_app(sqlite_crm, sqlite_world, "svc1"), terminal_size=(120, 40),
                        run_before=open_form)

"""SVG snapshot of the custom-fields area (admin), in Chinese, at 120×40.

Update with `pytest tests/test_snapshots_forms.py --snapshot-update`, after looking at it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from crm_tui import i18n
from crm_tui.domain.forms import definitions as D
from crm_tui.domain.kernel.actor import system_actor
from tests.tui_support import settle, signed_in_app

Compare = Callable[..., bool]


@pytest.fixture
def chinese() -> Iterator[None]:
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def test_fields_admin(snap_compare: Compare, sqlite_crm, sqlite_world, chinese: None) -> None:
    admin = system_actor("t")
    D.add_field(sqlite_crm, admin, "customer", "wechat_id", label_zh="微信号", label_en="WeChat ID",
                pattern=r"[A-Za-z][-_A-Za-z0-9]{5,19}", filterable=True)
    D.add_field(sqlite_crm, admin, "customer", "source_campaign", type="choice",
                label_zh="来源活动", label_en="Source campaign",
                choices=["春季理财节", "代发工资", "老带新"], required=True)
    D.add_field(sqlite_crm, admin, "customer", "passport_no", label_zh="护照号", label_en="Passport",
                sensitive=True)
    D.add_field(sqlite_crm, admin, "ticket", "callback_window", type="choice",
                label_zh="回访时段", label_en="Callback window", choices=["上午", "下午", "晚间"])

    async def open_area(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("f10")
        await settle(pilot)

    assert snap_compare(signed_in_app(sqlite_crm, sqlite_world, "admin"), terminal_size=(120, 40),
                        run_before=open_area)

"""SVG snapshots of the privacy area (f11) and the restricted view, in Chinese, at 120×40.
Request times are pinned, so every deadline shown is in the past (overdue) and stable."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from textual.widgets import DataTable

from crm_tui import i18n
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.privacy import requests
from crm_tui.domain.privacy.restricted import open_restricted
from crm_tui.screens.privacy_restricted import RestrictedProfileScreen
from tests.conftest import World
from tests.tui_support import build_book, settle, signed_in_app

SIZE = (120, 40)
Compare = Callable[..., bool]
AT = datetime(2025, 6, 9, 2, 0, tzinfo=UTC)


@pytest.fixture
def chinese() -> Iterator[None]:
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def _requests(crm: Crm, world: World) -> int:
    book = build_book(crm, world)
    rm1, comp = world["rm1"], world["comp1"]
    requests.open_request(crm, rm1, book.zhang_san, "access", detail="要求以邮件获取个人信息副本",
                          channel="email", now=AT)
    requests.open_request(crm, rm1, book.zhao_si, "restriction", purposes=["marketing_sms"],
                          detail="不再接收营销短信", channel="phone", now=AT)
    rid = requests.open_request(crm, rm1, book.li_si, "deletion", detail="销户后要求删除个人信息",
                                now=AT)
    requests.complete_request(crm, comp, rid, "依反洗钱保存义务限制处理，期满匿名化", now=AT)
    return book.li_si


def test_privacy_area(snap_compare: Compare, sqlite_crm: Crm, sqlite_world: World,
                      chinese: None) -> None:
    _requests(sqlite_crm, sqlite_world)

    async def open_area(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("f11")
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        pilot.app.screen.query_one("#privacy-list", DataTable).focus()
        await settle(pilot)

    assert snap_compare(signed_in_app(sqlite_crm, sqlite_world, "comp1"), terminal_size=SIZE,
                        run_before=open_area)


def test_restricted_view(snap_compare: Compare, sqlite_crm: Crm, sqlite_world: World,
                         chinese: None) -> None:
    li_si = _requests(sqlite_crm, sqlite_world)
    view = open_restricted(sqlite_crm, sqlite_world["comp1"], li_si, "监管现场检查调阅")

    async def show(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.app.push_screen(RestrictedProfileScreen(view))
        await settle(pilot)

    assert snap_compare(signed_in_app(sqlite_crm, sqlite_world, "comp1"), terminal_size=SIZE,
                        run_before=show)

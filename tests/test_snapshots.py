"""SVG snapshots of the main screens at 120×40, in Chinese (the product's language) and the
profile in English too. Data, date and creation times are pinned (tests/tui_support.py).

Update with `pytest tests/test_snapshots.py --snapshot-update`, after looking at the diff.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, tzinfo

import pytest
from textual.widgets import DataTable

from crm_tui import i18n
from crm_tui.domain.compliance.sensitive_changes import request_change
from crm_tui.domain.kernel.context import Crm
from tests.conftest import World
from tests.tui_support import build_book, new_app, search, settle, signed_in_app

SIZE = (120, 40)
Compare = Callable[..., bool]


@pytest.fixture
def chinese() -> Iterator[None]:
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def test_login_screen(snap_compare: Compare, sqlite_crm: Crm, chinese: None) -> None:
    assert snap_compare(new_app(sqlite_crm), terminal_size=SIZE, run_before=settle)


def test_search_results(snap_compare: Compare, sqlite_crm: Crm, sqlite_world: World,
                        chinese: None) -> None:
    build_book(sqlite_crm, sqlite_world)

    async def type_zs(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        # a steady cursor: its blink phase would follow how long the search took
        pilot.app.screen.query_one("#search-input").cursor_blink = False
        await search(pilot, "zs")

    assert snap_compare(signed_in_app(sqlite_crm, sqlite_world), terminal_size=SIZE,
                        run_before=type_zs)


def _open_zhang_san(book_id: int) -> Callable[..., object]:
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        pilot.app.open_customer(book_id)
        await settle(pilot)
    return run_before


def test_profile(snap_compare: Compare, sqlite_crm: Crm, sqlite_world: World,
                 chinese: None) -> None:
    book = build_book(sqlite_crm, sqlite_world)
    assert snap_compare(signed_in_app(sqlite_crm, sqlite_world), terminal_size=SIZE,
                        run_before=_open_zhang_san(book.zhang_san))


def test_profile_in_english(snap_compare: Compare, sqlite_crm: Crm, sqlite_world: World) -> None:
    book = build_book(sqlite_crm, sqlite_world)
    assert snap_compare(signed_in_app(sqlite_crm, sqlite_world), terminal_size=SIZE,
                        run_before=_open_zhang_san(book.zhang_san))


# -- the approval inbox, on a fixed clock ------------------------------------------------

CLOCK = datetime(2025, 6, 16, 4, 30, tzinfo=UTC)  # 12:30 in Shanghai on tui_support.TODAY


class _FixedClock(datetime):
    """`datetime` whose now() is CLOCK: the inbox's "waited" column and the domain's
    expiry checks read it, so the ages on screen never move."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        return CLOCK.astimezone(tz) if tz else CLOCK.replace(tzinfo=None)


@pytest.fixture
def pending_changes(sqlite_crm: Crm, sqlite_world: World,
                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Two sensitive changes rm1 asked for, for her supervisor sup1 to decide."""
    book = build_book(sqlite_crm, sqlite_world)
    rm1 = sqlite_world["rm1"]
    request_change(sqlite_crm, rm1, book.zhang_san, "phone", "13911112222",
                   reason="客户更换手机号码，已在柜面核验本人身份证原件",
                   now=CLOCK - timedelta(days=1, hours=2, minutes=15))
    request_change(sqlite_crm, rm1, book.li_si, "bank_account", "6217000010082466957",
                   reason="原借记卡挂失换卡", now=CLOCK - timedelta(hours=3, minutes=10))
    monkeypatch.setattr("crm_tui.domain.compliance.approvals.utcnow", lambda: CLOCK)
    monkeypatch.setattr("crm_tui.domain.compliance.approval_views.utcnow", lambda: CLOCK)
    monkeypatch.setattr("crm_tui.screens.approval_inbox.datetime", _FixedClock)


async def _open_inbox(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("f3")
    await settle(pilot)
    pilot.app.screen.query_one("#approval-list-decide", DataTable).focus()
    await settle(pilot)


def test_approval_inbox(snap_compare: Compare, sqlite_crm: Crm, sqlite_world: World,
                        pending_changes: None, chinese: None) -> None:
    assert snap_compare(signed_in_app(sqlite_crm, sqlite_world, "sup1"), terminal_size=SIZE,
                        run_before=_open_inbox)


def test_approval_detail_with_the_diff(snap_compare: Compare, sqlite_crm: Crm,
                                       sqlite_world: World, pending_changes: None,
                                       chinese: None) -> None:
    async def open_the_oldest(pilot) -> None:  # type: ignore[no-untyped-def]
        await _open_inbox(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(signed_in_app(sqlite_crm, sqlite_world, "sup1"), terminal_size=SIZE,
                        run_before=open_the_oldest)

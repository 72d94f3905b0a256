"""SVG snapshots at 80×24, the smallest terminal the branch uses: login, search, profile,
the approval inbox and the trade form, in Chinese. Amounts must be whole, the footer must
keep `b 办理交易`, the summary column must show, modals must fit with their buttons.

Update with `pytest tests/test_snapshots_80x24.py --snapshot-update`, after looking.
"""

from __future__ import annotations

from collections.abc import Callable

from crm_tui.domain.kernel.context import Crm
from tests.conftest import World
from tests.test_snapshots import _open_inbox, _open_zhang_san, chinese, pending_changes
from tests.tui_support import build_book, new_app, search, settle, signed_in_app

SIZE = (80, 24)
Compare = Callable[..., bool]
__all__ = ["chinese", "pending_changes"]  # fixtures used below


def test_login_80x24(snap_compare: Compare, sqlite_crm: Crm, chinese: None) -> None:
    assert snap_compare(new_app(sqlite_crm), terminal_size=SIZE, run_before=settle)


def test_search_80x24(snap_compare: Compare, sqlite_crm: Crm, sqlite_world: World,
                      chinese: None) -> None:
    build_book(sqlite_crm, sqlite_world)

    async def type_zs(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await search(pilot, "zs")

    assert snap_compare(signed_in_app(sqlite_crm, sqlite_world), terminal_size=SIZE,
                        run_before=type_zs)


def test_profile_80x24(snap_compare: Compare, sqlite_crm: Crm, sqlite_world: World,
                       chinese: None) -> None:
    book = build_book(sqlite_crm, sqlite_world)
    assert snap_compare(signed_in_app(sqlite_crm, sqlite_world), terminal_size=SIZE,
                        run_before=_open_zhang_san(book.zhang_san))


def test_inbox_80x24(snap_compare: Compare, sqlite_crm: Crm, sqlite_world: World,
                     pending_changes: None, chinese: None) -> None:
    assert snap_compare(signed_in_app(sqlite_crm, sqlite_world, "sup1"), terminal_size=SIZE,
                        run_before=_open_inbox)


def test_trade_form_80x24(snap_compare: Compare, sqlite_crm: Crm, sqlite_world: World,
                          chinese: None) -> None:
    book = build_book(sqlite_crm, sqlite_world)
    open_profile = _open_zhang_san(book.zhang_san)

    async def open_trade(pilot) -> None:  # type: ignore[no-untyped-def]
        await open_profile(pilot)
        await pilot.press("b")
        await settle(pilot)

    assert snap_compare(signed_in_app(sqlite_crm, sqlite_world), terminal_size=SIZE,
                        run_before=open_trade)

"""SVG snapshots of the main screens at 120×40, in Chinese (the product's language) and the
profile in English too. Data, date and creation times are pinned (tests/tui_support.py).

Update with `pytest tests/test_snapshots.py --snapshot-update`, after looking at the diff.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from crm_tui import i18n
from crm_tui.domain.context import Crm
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

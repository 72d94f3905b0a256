"""SVG snapshots of the ticket queue and My day at 120×40 in Chinese, on a pinned clock.

Update with `pytest tests/test_service_snapshots.py --snapshot-update`, after looking at it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from crm_tui import i18n
from crm_tui.domain.kernel.context import Crm
from tests.conftest import World
from tests.test_service_tui import NOW, _tasks, queue
from tests.tui_support import settle, signed_in_app

SIZE = (120, 40)
Compare = Callable[..., bool]


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("crm_tui.screens.tickets.clock", lambda: NOW)
    monkeypatch.setattr("crm_tui.screens.my_day.clock", lambda: NOW)


@pytest.fixture
def chinese() -> Iterator[None]:
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


async def _open_tickets(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("f7")
    await settle(pilot)


def test_ticket_queue(snap_compare: Compare, sqlite_crm: Crm, sqlite_world: World,
                      pinned: None, chinese: None) -> None:
    queue(sqlite_crm, sqlite_world)
    assert snap_compare(signed_in_app(sqlite_crm, sqlite_world, "svc1"), terminal_size=SIZE,
                        run_before=_open_tickets)


def test_my_day(snap_compare: Compare, sqlite_crm: Crm, sqlite_world: World, pinned: None,
                chinese: None) -> None:
    _tasks(sqlite_crm, sqlite_world)
    assert snap_compare(signed_in_app(sqlite_crm, sqlite_world, "rm1"), terminal_size=SIZE,
                        run_before=settle)

"""The paged table every long work list uses: keyset pages from a worker, the next page
when the cursor nears the bottom, a reload that wins over a page still on its way, and
refusals on its status line."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Static

from crm_tui.domain.kernel.errors import DomainError
from crm_tui.widgets.paged_table import IdPage, PagedTable


@dataclass(frozen=True)
class Row:
    id: int
    name: str


def numbers(total: int, prefix: str = "row") -> Any:
    """A keyset fetch over ids total..1, newest first, like the domain's lists."""
    calls: list[Any] = []

    def fetch(before_id: int | None, limit: int) -> IdPage:
        calls.append(before_id)
        top = total if before_id is None else before_id - 1
        rows = [Row(i, f"{prefix} {i}") for i in range(top, max(0, top - limit), -1)]
        return IdPage.of(rows, limit)

    fetch.calls = calls  # type: ignore[attr-defined]
    return fetch


class Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[int] = []

    def compose(self) -> ComposeResult:
        yield PagedTable(table_id="things", status_id="things-status", page_size=20)

    def on_paged_table_loaded(self, event: PagedTable.Loaded) -> None:
        self.loaded.append(event.total)


def cells(row: Row) -> list[str]:
    return [str(row.id), row.name]


async def _ready(pilot: Any) -> PagedTable:
    paged = pilot.app.query_one(PagedTable)
    paged.set_columns([("id", "Id", 6), ("name", "Name", 20)])
    return paged


async def _settle(pilot: Any) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def test_pages_follow_the_cursor_to_the_end() -> None:
    app = Host()
    fetch = numbers(45)
    async with app.run_test(size=(60, 12)) as pilot:
        paged = await _ready(pilot)
        paged.load(fetch, cells, row_key=lambda r: str(r.id))
        await _settle(pilot)
        table = app.query_one("#things", DataTable)
        assert table.row_count == 20 and paged.after == 26 and app.loaded == [20]
        table.focus()
        for _ in range(3):  # to the bottom, page by page
            table.move_cursor(row=table.row_count - 1)
            await _settle(pilot)
        assert [r.id for r in paged.rows] == list(range(45, 0, -1))
        assert paged.after is None and fetch.calls == [None, 26, 6]
        assert app.loaded == [20, 40, 45]
        assert paged.highlighted == Row(1, "row 1")


async def test_a_reload_wins_over_a_page_still_on_its_way() -> None:
    app = Host()
    release = threading.Event()
    slow_inner = numbers(30, "stale")

    def slow(before_id: int | None, limit: int) -> IdPage:
        release.wait(10)
        return slow_inner(before_id, limit)

    async with app.run_test(size=(60, 12)) as pilot:
        paged = await _ready(pilot)
        paged.load(slow, cells)
        await pilot.pause()
        paged.load(numbers(3, "fresh"), cells)  # the user switched lists meanwhile
        await pilot.pause(0.2)
        release.set()
        await _settle(pilot)
        assert [r.name for r in paged.rows] == ["fresh 3", "fresh 2", "fresh 1"]
        assert app.query_one("#things", DataTable).row_count == 3


async def test_a_refusal_is_said_on_the_status_line() -> None:
    app = Host()

    def refused(before_id: int | None, limit: int) -> IdPage:
        raise DomainError("error.permission_denied")

    async with app.run_test(size=(60, 12)) as pilot:
        paged = await _ready(pilot)
        paged.load(refused, cells)
        await _settle(pilot)
        line = app.query_one("#things-status", Static)
        assert str(line.content) == DomainError("error.permission_denied").message
        assert line.has_class("-error") and paged.rows == []

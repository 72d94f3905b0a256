"""A table that pages itself from the domain: the one shape behind every long work list.

A pane gives it a fetch function `fetch(after, limit) -> page` (a domain call; `page.rows`,
and `page.after`, the keyset cursor of the next page or None at the end) and a function
that turns a row into cells. The table then

- runs each fetch through `call_domain` (a thread worker; a reload supersedes a page still
  on its way, so a late answer never lands on a fresh list);
- asks for the next page when the cursor nears the bottom, one request at a time (a
  page that came back empty but not finished, because the domain stopped scanning, asks
  again at once);
- shows refusals and failures, and whatever the pane says, on its one status line.

`PagedTable.Loaded` tells the pane after each page (to update a count or an "empty" hint).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from crm_tui.widgets.data_table import DataTable
from crm_tui.widgets.domain_call import DomainCalls

Fetch = Callable[[Any, int], Any]
Cells = Callable[[Any], Sequence[str | Text]]
GROUP = "page"


@dataclass(frozen=True)
class IdPage:
    """A page of a list that the domain returns as a plain list, newest (or lowest) id
    first: the next page starts after the last row's id when this one was full."""

    rows: tuple[Any, ...]
    after: Any

    @classmethod
    def of(cls, rows: Sequence[Any], limit: int, key: Callable[[Any], Any] = lambda r: r.id
           ) -> IdPage:
        return cls(tuple(rows), key(rows[-1]) if rows and len(rows) >= limit else None)


class PagedTable(DomainCalls, Vertical):
    DEFAULT_CSS = """
    PagedTable { height: 1fr; }
    PagedTable > DataTable { height: 1fr; }
    PagedTable > .pane-status.-error { color: $error; }
    """

    class Loaded(Message):
        """A page arrived; `total` rows are on screen now."""

        def __init__(self, table: PagedTable, total: int) -> None:
            super().__init__()
            self.table = table
            self.total = total

        @property
        def control(self) -> PagedTable:
            return self.table

    def __init__(self, *, table_id: str, status_id: str, page_size: int = 100,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.table_id, self.status_id, self.page_size = table_id, status_id, page_size
        self.rows: list[Any] = []
        self.after: Any = None
        self._fetch: Fetch | None = None
        self._cells: Cells = lambda row: [str(row)]
        self._row_key: Callable[[Any], str] | None = None
        self._first: Any = None

    def compose(self) -> ComposeResult:
        yield DataTable(id=self.table_id, cursor_type="row", zebra_stripes=True)
        yield Static("", id=self.status_id, classes="pane-status", markup=False)

    def on_mount(self) -> None:
        self.watch(self.table, "scroll_y", self._scrolled, init=False)

    @property
    def table(self) -> DataTable[str | Text]:
        return self.query_one(f"#{self.table_id}", DataTable)

    def set_columns(self, columns: Sequence[tuple[str, str, int | None]]) -> None:
        """(key, label, width or None) for each column, replacing any there are."""
        self.table.clear(columns=True)
        for key, label, width in columns:
            self.table.add_column(label, width=width, key=key)

    def load(self, fetch: Fetch, cells: Cells, *, first: Any = None,
             row_key: Callable[[Any], str] | None = None) -> None:
        """Show the list `fetch` pages through, from its first page (`first` is the cursor
        that asks for it)."""
        self._fetch, self._cells, self._row_key, self._first = fetch, cells, row_key, first
        self.reload()

    def reload(self) -> None:
        """From the first page again (a filter changed, a row was acted on)."""
        self.after = self._first
        self._request(replace=True)

    def say(self, text: str, *, ok: bool = True) -> None:
        line = self.query_one(f"#{self.status_id}", Static)
        line.update(text)
        line.set_class(not ok, "-error")

    @property
    def highlighted(self) -> Any | None:
        table = self.table
        if not table.row_count or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def _request(self, *, replace: bool) -> None:
        if self._fetch is None:
            return
        self.call_domain(self._fetch, self.after, self.page_size, group=GROUP,
                         on_done=lambda page: self._show(page, replace),
                         on_error=lambda text: self.say(text, ok=False))

    def _show(self, page: Any, replace: bool) -> None:
        table = self.table
        if replace:
            table.clear()
            self.rows = []
        for row in page.rows:
            table.add_row(*self._cells(row), key=self._row_key(row) if self._row_key else None)
        self.rows.extend(page.rows)
        self.after = page.after
        self.post_message(self.Loaded(self, len(self.rows)))
        if not page.rows and page.after is not None:
            self._request(replace=False)  # the domain stopped scanning short of a row

    def _scrolled(self, scroll_y: float) -> None:
        table = self.table
        if (scroll_y >= table.max_scroll_y - 1 and self.after is not None and self.rows
                and not self.busy(GROUP)):
            self._request(replace=False)

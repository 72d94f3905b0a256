"""Customer search as you type: name, pinyin initials, phone tail, mobile or national ID.

Typing restarts a short debounce timer; the query runs in an exclusive worker (a newer
query supersedes an older one) and the rows come back in a `Results` message. Paging is
by keyset: reaching the last rows asks for the page after the last (sort key, id) shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Input, Static

from crm_tui.i18n import t
from crm_tui.widgets.data_table import DataTable
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.formatting import money, risk_label
from crm_tui.widgets.session import UsesCrm

if TYPE_CHECKING:
    from crm_tui.domain.customers.views import CustomerSummary

DEBOUNCE_SECONDS = 0.25
PAGE = 50
# Amounts come right after the name: at 80 columns the text columns at the right are the
# ones cut, never the digits of an amount.
COLUMNS = (  # key, catalog key, width
    ("name", "field.name", 14),
    ("aum", "field.aum", 16),
    ("phone", "field.phone", 11),
    ("risk", "field.risk_level", 13),
    ("rm", "field.rm_username", 8),
    ("branch", "field.branch", 18),
)


class CustomerSearchPane(UsesCrm, DomainCalls, Vertical):
    """The "Customers" area. Enter (in the box or on a row) opens the 360° profile."""

    BINDINGS = [
        Binding("ctrl+f", "focus_search", "tui.key.find", id="find-customer"),
        Binding("down", "focus_results", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(classes="area-pane")
        self._timer: Timer | None = None
        self._rows: list[CustomerSummary] = []
        self._query = ""
        self._more = False
        self._loading = False
        self._open_first = False

    def compose(self) -> ComposeResult:
        yield Static(t("tui.search.title"), classes="pane-title")
        yield Input(id="search-input", placeholder=t("tui.search.placeholder"))
        yield Static(t("tui.search.hint"), id="search-status", classes="pane-status", markup=False)
        table: DataTable[str | Text] = DataTable(id="search-results", cursor_type="row",
                                                 zebra_stripes=True)
        for key, label, width in COLUMNS:
            justify = "right" if key == "aum" else "left"
            table.add_column(Text(t(label), justify=justify), width=width, key=key)
        yield table

    def focus_default(self) -> None:
        self.query_one("#search-input", Input).focus()

    def focus_on_return(self) -> None:
        """Back from a profile: the cursor in the box, the query and the rows kept."""
        self.focus_default()

    def action_focus_search(self) -> None:
        self.focus_default()

    def action_focus_results(self) -> None:
        table = self.query_one("#search-results", DataTable)
        if self.query_one("#search-input", Input).has_focus and table.row_count:
            table.focus()

    # -- typing → debounce → worker ----------------------------------------------------

    @on(Input.Changed, "#search-input")
    def _typed(self, event: Input.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
        query = event.value.strip()
        if not query:
            self._query = ""
            self.cancel_calls("search")  # a late answer to the old query is dropped
            self._show([], query, append=False)
            self.query_one("#search-status", Static).update(t("tui.search.hint"))
            return
        self._timer = self.set_timer(DEBOUNCE_SECONDS, lambda: self.search(query))

    @on(Input.Submitted, "#search-input")
    def _submitted(self, event: Input.Submitted) -> None:
        """Enter opens the highlighted (or first) result; if the rows are not yet those of
        what was typed, search first and open the first answer."""
        query = event.value.strip()
        if not query:
            return
        if self._timer is not None:
            self._timer.stop()
        if query != self._query or self._loading:
            self._open_first = True
            self.search(query)
            return
        self._open_highlighted()

    def _open_highlighted(self) -> None:
        table = self.query_one("#search-results", DataTable)
        if not self._rows:
            return
        row = table.cursor_row if 0 <= table.cursor_row < len(self._rows) else 0
        self.app.open_customer(self._rows[row].id)  # type: ignore[attr-defined]

    def search(self, query: str) -> None:
        self._query = query
        self._loading = True
        self.query_one("#search-status", Static).update(t("tui.search.searching"))
        self._fetch(query, None)

    def _fetch(self, query: str, after: tuple[str, int] | None) -> None:
        from crm_tui.domain.customers.search import search_customers

        self.call_domain(search_customers, self.crm, self.actor, query, limit=PAGE, after=after,
                         group="search", on_done=lambda rows: self._answer(query, rows, after),
                         on_error=self._failed)

    def _failed(self, text: str) -> None:
        self._loading = False
        self._open_first = False
        self.query_one("#search-status", Static).update(text)

    def _answer(self, query: str, rows: list[CustomerSummary],
                after: tuple[str, int] | None) -> None:
        self._loading = False
        status = self.query_one("#search-status", Static)
        self._show(rows, query, append=after is not None)
        self._more = len(rows) == PAGE
        if not self._rows:
            status.update(t("tui.search.none", query=query))
        elif self._more:
            status.update(t("tui.search.found_more", count=len(self._rows)))
        else:
            status.update(t("tui.search.found", count=len(self._rows)))
        if self._open_first:
            self._open_first = False
            self._open_highlighted()

    def _show(self, rows: list[CustomerSummary], query: str, *, append: bool) -> None:
        table = self.query_one("#search-results", DataTable)
        if not append:
            table.clear()
            self._rows = []
        for r in rows:
            table.add_row(r.name, Text(money(r.aum), justify="right"), r.phone_masked or "—",
                          risk_label(r.risk_level), r.rm_name or "—",
                          r.branch_name or "—", key=str(r.id))
        self._rows.extend(rows)

    # -- paging and opening ------------------------------------------------------------

    def on_mount(self) -> None:
        table = self.query_one("#search-results", DataTable)
        self.watch(table, "scroll_y", self._scrolled, init=False)

    def _scrolled(self, scroll_y: float) -> None:
        table = self.query_one("#search-results", DataTable)
        if scroll_y >= table.max_scroll_y - 1:
            self._next_page()

    @on(DataTable.RowHighlighted, "#search-results")
    def _near_end(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= len(self._rows) - 5:
            self._next_page()

    def _next_page(self) -> None:
        """Keyset paging: the page after the last (sort key, id) on screen."""
        if self._more and not self._loading and self._rows:
            last = self._rows[-1]
            self._loading = True
            self.query_one("#search-status", Static).update(t("tui.search.searching"))
            self._fetch(self._query, (last.sort_key, last.id))

    @on(DataTable.RowSelected, "#search-results")
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.app.open_customer(int(event.row_key.value))  # type: ignore[attr-defined]

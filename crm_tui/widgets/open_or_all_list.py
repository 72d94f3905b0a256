"""The pane shape of the compliance queues (risk alerts, privacy requests): a title, a line
saying whether open items or all are shown (`o` switches, `r` reloads), and a `PagedTable`
of the items newest first. A subclass names its ids and catalog keys and says how to fetch
a page and how to show a row; everything else is here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from crm_tui.i18n import t
from crm_tui.widgets.data_table import DataTable
from crm_tui.widgets.paged_table import IdPage, PagedTable
from crm_tui.widgets.session import UsesCrm
from crm_tui.widgets.status_line import SaysOnLine


class OpenOrAllList(UsesCrm, SaysOnLine, Vertical):
    """Subclasses set the class attributes and implement `fetch` and `cells`."""

    TABLE_ID: ClassVar[str]
    FILTER_ID: ClassVar[str]
    COLUMNS: ClassVar[Sequence[tuple[str, str, int]]]  # key, catalog key, width
    TITLE: ClassVar[str]
    SHOWING_ALL: ClassVar[str]
    SHOWING_OPEN: ClassVar[str]
    NONE: ClassVar[str]

    def __init__(self) -> None:
        super().__init__(classes="area-pane")
        self.show_all = False

    def compose(self) -> ComposeResult:
        yield Static(t(self.TITLE), classes="pane-title")
        yield Static("", id=self.FILTER_ID, classes="pane-status", markup=False)
        yield PagedTable(table_id=self.TABLE_ID, status_id=self.MESSAGE_LINE.lstrip("#"))

    def on_mount(self) -> None:
        self.query_one(PagedTable).set_columns([(k, t(label), w) for k, label, w in self.COLUMNS])
        self.reload()

    @property
    def rows(self) -> list[Any]:
        return self.query_one(PagedTable).rows

    def highlighted(self) -> Any | None:
        return self.query_one(PagedTable).highlighted

    def focus_default(self) -> None:
        self.query_one(f"#{self.TABLE_ID}", DataTable).focus()

    def action_reload(self) -> None:
        self.reload()

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self.reload()

    def reload(self) -> None:
        self.query_one(f"#{self.FILTER_ID}", Static).update(
            t(self.SHOWING_ALL if self.show_all else self.SHOWING_OPEN))
        crm, actor, show_all = self.crm, self.actor, self.show_all

        def page(before_id: int | None, limit: int) -> IdPage:
            return IdPage.of(self.fetch(crm, actor, show_all, before_id, limit), limit)

        self.query_one(PagedTable).load(page, self.cells, row_key=lambda row: str(row.id))

    def fetch(self, crm: Any, actor: Any, show_all: bool, before_id: int | None,
              limit: int) -> list[Any]:
        """One page of items, newest first, before `before_id` (runs in a worker)."""
        raise NotImplementedError

    def cells(self, row: Any) -> list[str | Text]:
        raise NotImplementedError

    @on(PagedTable.Loaded)
    def _loaded(self, event: PagedTable.Loaded) -> None:
        if not event.total:
            self.query_one(f"#{self.FILTER_ID}", Static).update(t(self.NONE))

    def changed(self, text: str | None) -> None:
        """After an action on an item: say what happened, reload, refresh the badges."""
        if text:
            self.say(text, ok=True)
            self.reload()
            refresh = getattr(self.screen, "refresh_badges", None)
            if refresh is not None:
                refresh()

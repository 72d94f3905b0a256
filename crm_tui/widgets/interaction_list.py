"""Every interaction, newest first: channel, who, when (branch time), subject, next action.

The list pages by keyset: when the cursor nears the end and the domain said more exist,
it asks its screen (with `MoreWanted`) for the page before the oldest row shown.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from crm_tui.i18n import t
from crm_tui.widgets.data_table import DataTable
from crm_tui.widgets.formatting import day, moment, or_dash

if TYPE_CHECKING:
    from crm_tui.domain.customers.views import InteractionView

COLUMNS = (("when", 16), ("channel", 8), ("staff", 8), ("subject", 30), ("next", 22), ("due", 10))


def due_text(due: date | None, today: date) -> Text:
    if due is None:
        return Text("—", style="dim")
    return Text(day(due), style="red" if due < today else "")


class InteractionList(Vertical):
    DEFAULT_CSS = """
    InteractionList #interactions { height: 1fr; }
    InteractionList #interaction-detail { height: auto; max-height: 8; padding: 0 1;
        border-top: solid $panel; }
    InteractionList #interactions-status { color: $text-muted; padding: 0 1; }
    """

    class MoreWanted(Message):
        def __init__(self, before: tuple[datetime, int]) -> None:
            super().__init__()
            self.before = before

    def __init__(self, tz: ZoneInfo, today: date, **kw: str) -> None:
        super().__init__(**kw)
        self._tz = tz
        self._today = today
        self.rows: list[InteractionView] = []
        self.more = False
        self._asked = False

    def compose(self) -> ComposeResult:
        table: DataTable[str | Text] = DataTable(id="interactions", cursor_type="row",
                                                 zebra_stripes=True)
        for key, width in COLUMNS:
            table.add_column(t(f"tui.interactions.{key}"), width=width, key=key)
        yield table
        yield Static("", id="interactions-status", markup=False)
        yield Static("", id="interaction-detail", markup=False)

    def show(self, rows: tuple[InteractionView, ...], more: bool, *, append: bool) -> None:
        table = self.query_one("#interactions", DataTable)
        if not append:
            table.clear()
            self.rows = []
        for r in rows:
            table.add_row(moment(r.occurred_at, self._tz), t(f"channel.{r.channel}"),
                          or_dash(r.staff_name), r.subject, or_dash(r.next_action),
                          due_text(r.next_action_due, self._today), key=str(r.id))
        self.rows.extend(rows)
        self.more = more
        self._asked = False
        status = "tui.interactions.shown_more" if more else "tui.interactions.shown"
        self.query_one("#interactions-status", Static).update(
            t(status, count=len(self.rows)) if self.rows else t("tui.interactions.none"))
        if not append:
            self._detail(0)

    def _detail(self, index: int) -> None:
        detail = self.query_one("#interaction-detail", Static)
        if not self.rows or index >= len(self.rows):
            detail.update("")
            return
        r = self.rows[index]
        lines = [f"{moment(r.occurred_at, self._tz)} · {t(f'channel.{r.channel}')} · "
                 f"{or_dash(r.staff_name)} · {r.subject}"]
        if r.summary:
            lines.append(r.summary)
        if r.next_action:
            lines.append(t("tui.interactions.next_line", action=r.next_action,
                           due=day(r.next_action_due)))
        detail.update("\n".join(lines))

    @on(DataTable.RowHighlighted, "#interactions")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail(event.cursor_row)
        if self.more and not self._asked and event.cursor_row >= len(self.rows) - 3:
            self._asked = True
            last = self.rows[-1]
            self.post_message(self.MoreWanted((last.occurred_at, last.id)))

"""The last few interactions on the overview, so the first screen answers "when did we
last talk, and what did we promise?" without switching tabs."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from crm_tui.i18n import t
from crm_tui.widgets.formatting import moment, or_dash
from crm_tui.widgets.interaction_list import due_text

if TYPE_CHECKING:
    from crm_tui.domain.customers.views import InteractionView

SHOWN = 8


class RecentInteractions(Vertical):
    DEFAULT_CSS = """
    RecentInteractions { height: auto; border-top: solid $panel; }
    """

    def compose(self) -> ComposeResult:
        yield Static(t("tui.overview.recent"), classes="panel-title")
        yield Static("", id="recent-body")

    def show(self, rows: tuple[InteractionView, ...], tz: ZoneInfo, today: date) -> None:
        body = self.query_one("#recent-body", Static)
        if not rows:
            body.update(Text(t("tui.interactions.none"), style="dim"))
            return
        table = Table(box=None, padding=(0, 2, 0, 0), show_edge=False, header_style="dim",
                      expand=True)
        for key, ratio in (("when", None), ("channel", None), ("staff", None), ("subject", 3),
                           ("next", 2), ("due", None)):
            table.add_column(t(f"tui.interactions.{key}"), ratio=ratio, no_wrap=True)
        for r in rows[:SHOWN]:
            table.add_row(moment(r.occurred_at, tz), t(f"channel.{r.channel}"),
                          or_dash(r.staff_name), r.subject, or_dash(r.next_action),
                          due_text(r.next_action_due, today))
        body.update(table)

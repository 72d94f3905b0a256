"""The notification centre: the signed-in person's messages from every area (lead
assignments and breaches, approvals waiting or closed, risk alerts, won deals), newest
first, keyset-paged; `m` marks the highlighted one read, `M` all, `o` unread/all. The
navigation shows the unread count."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from crm_tui.i18n import has_key, t
from crm_tui.widgets.data_table import DataTable
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.formatting import moment
from crm_tui.widgets.session import UsesCrm

if TYPE_CHECKING:
    from crm_tui.domain.workflow.notifications import NotificationView

PAGE = 50


def render(n: NotificationView) -> str:
    """The message in the reader's language; "@key" parameters are catalog keys too."""
    params: dict[str, Any] = {k: t(v[1:]) if isinstance(v, str) and v.startswith("@")
                              and has_key(v[1:]) else v for k, v in n.params.items()}
    return t(n.message_key, **params)


class NotificationsPane(DomainCalls, UsesCrm, Vertical):
    DEFAULT_CSS = """
    NotificationsPane #notify-list { height: 1fr; margin-top: 1; background: $background; }
    NotificationsPane #notify-message.-error { color: $error; }
    """
    BINDINGS = [
        Binding("m", "mark_read", "tui.notify.key_read", id="notify-read"),
        Binding("M", "mark_all", "tui.notify.key_all_read", id="notify-all-read"),
        Binding("o", "toggle", "tui.notify.key_toggle", id="notify-toggle"),
        Binding("r", "reload", "tui.notify.key_reload", id="notify-reload"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="area-pane")
        self.unread_only = True
        self.rows: list[NotificationView] = []
        self._more = False

    def compose(self) -> ComposeResult:
        yield Static(t("tui.notify.title"), classes="pane-title")
        yield Static("", id="notify-line", classes="pane-status", markup=False)
        table: DataTable[str | Text] = DataTable(id="notify-list", cursor_type="row",
                                                 zebra_stripes=True)
        table.add_column(t("tui.notify.col_time"), width=16, key="time")
        table.add_column(t("tui.notify.col_read"), width=5, key="read")
        table.add_column(t("tui.notify.col_message"), width=70, key="message")
        yield table
        yield Static("", id="notify-message", classes="pane-status", markup=False)

    def on_mount(self) -> None:
        self.watch(self.query_one("#notify-list", DataTable), "scroll_y", self._scrolled,
                   init=False)
        self.reload()

    def focus_default(self) -> None:
        self.query_one("#notify-list", DataTable).focus()

    def reload(self) -> None:
        from crm_tui.domain.workflow.notifications import list_notifications

        self.query_one("#notify-line", Static).update(
            t("tui.notify.showing_unread" if self.unread_only else "tui.notify.showing_all"))
        self.call_domain(list_notifications, self.crm, self.actor, unread_only=self.unread_only,
                         limit=PAGE, on_done=lambda rows: self._show(rows, False), group="list")

    def _show(self, rows: list[NotificationView], append: bool) -> None:
        table = self.query_one("#notify-list", DataTable)
        if not append:
            table.clear()
            self.rows = []
        for n in rows:
            state = Text(t("tui.notify.read"), style="dim") if n.read else \
                Text(t("tui.notify.unread"), style="bold $accent")
            table.add_row(moment(n.created_at, self.crm.tz), state, render(n), key=str(n.id))
        self.rows.extend(rows)
        self._more = len(rows) == PAGE
        if not self.rows:
            self.query_one("#notify-line", Static).update(t("tui.notify.none"))

    def _scrolled(self, scroll_y: float) -> None:
        from crm_tui.domain.workflow.notifications import list_notifications

        table = self.query_one("#notify-list", DataTable)
        if scroll_y >= table.max_scroll_y - 1 and self._more and self.rows and not self.busy("more"):
            self.call_domain(list_notifications, self.crm, self.actor,
                             unread_only=self.unread_only, before_id=self.rows[-1].id,
                             limit=PAGE, on_done=lambda rows: self._show(rows, True),
                             group="more", block=True)

    def action_reload(self) -> None:
        self.reload()

    def action_toggle(self) -> None:
        self.unread_only = not self.unread_only
        self.reload()

    def action_mark_read(self) -> None:
        table = self.query_one("#notify-list", DataTable)
        if table.row_count and table.cursor_row < len(self.rows):
            self._mark([self.rows[table.cursor_row].id])

    def action_mark_all(self) -> None:
        self._mark(None)

    def _mark(self, ids: list[int] | None) -> None:
        from crm_tui.domain.workflow.notifications import mark_read

        self.call_domain(mark_read, self.crm, self.actor, ids, on_done=self._marked,
                         group="mark", block=True)

    def _marked(self, n: int) -> None:
        self.say(t("tui.notify.marked", n=n), ok=True)
        self.reload()
        refresh = getattr(self.screen, "refresh_badges", None)
        if refresh is not None:
            refresh()

    def say(self, text: str, *, ok: bool) -> None:
        line = self.query_one("#notify-message", Static)
        line.update(text)
        line.set_class(not ok, "-error")

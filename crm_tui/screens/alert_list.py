"""The risk alert list, for risk and compliance: open alerts first (or every alert), newest
first, keyset-paged. A risk officer clears the highlighted alert with `c`, giving the
required reason; the freeze it imposed lifts in the same transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from crm_tui.i18n import render, t
from crm_tui.screens.reason_modal import ReasonModal
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.formatting import moment
from crm_tui.widgets.session import UsesCrm
from crm_tui.widgets.status_line import SaysOnLine

if TYPE_CHECKING:
    from crm_tui.domain.compliance.alerts import AlertView

PAGE = 100
COLUMNS = (
    ("id", "tui.compliance.col.id", 5),
    ("raised", "tui.compliance.col.raised", 16),
    ("severity", "tui.compliance.col.severity", 8),
    ("customer", "tui.compliance.col.customer", 8),
    ("rule", "tui.compliance.col.rule", 18),
    ("freeze", "tui.compliance.col.freeze", 6),
    ("status", "tui.compliance.col.state", 8),
    ("details", "tui.compliance.col.details", 60),
)


class AlertListPane(UsesCrm, DomainCalls, SaysOnLine, Vertical):
    """The "Risk alerts" area."""

    MESSAGE_LINE = "#alert-message"

    DEFAULT_CSS = """
    AlertListPane #alert-list { height: 1fr; margin-top: 1; background: $background; }
    AlertListPane #alert-message.-error { color: $error; }
    """
    BINDINGS = [
        Binding("c", "clear_alert", "tui.compliance.key.clear_alert", id="alert-clear"),
        Binding("o", "toggle_all", "tui.compliance.key.toggle_all", id="alert-toggle"),
        Binding("r", "reload", "tui.compliance.key.reload", id="alert-reload"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="area-pane")
        self.rows: list[AlertView] = []
        self.show_all = False
        self._more = False
        self._loading = False

    def compose(self) -> ComposeResult:
        yield Static(t("tui.compliance.alerts.title"), classes="pane-title")
        yield Static("", id="alert-filter", classes="pane-status", markup=False)
        table: DataTable[str | Text] = DataTable(id="alert-list", cursor_type="row",
                                                 zebra_stripes=True)
        for key, label, width in COLUMNS:
            table.add_column(t(label), width=width, key=key)
        yield table
        yield Static("", id="alert-message", classes="pane-status", markup=False)

    def on_mount(self) -> None:
        table = self.query_one("#alert-list", DataTable)
        self.watch(table, "scroll_y", self._scrolled, init=False)
        self.reload()

    def focus_default(self) -> None:
        self.query_one("#alert-list", DataTable).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_alert":
            from crm_tui.domain.kernel.permissions import Perm, can

            return can(self.actor, Perm.ALERT_CLEAR)
        return True

    def action_reload(self) -> None:
        self.reload()

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self.reload()

    def reload(self) -> None:
        self.query_one("#alert-filter", Static).update(
            t("tui.compliance.alerts.showing_all" if self.show_all
              else "tui.compliance.alerts.showing_open"))
        self._loading = True
        self._fetch(None)

    def _fetch(self, before_id: int | None) -> None:
        from crm_tui.domain.compliance.alerts import list_alerts

        def failed(text: str) -> None:
            self._loading = False
            self.say(text, ok=False)

        self.call_domain(list_alerts, self.crm, self.actor,
                         status=None if self.show_all else "open", before_id=before_id,
                         limit=PAGE, group="alerts", on_error=failed,
                         on_done=lambda rows: self._loaded(rows, before_id is not None))

    def _loaded(self, rows: list[AlertView], append: bool) -> None:
        self._loading = False
        table = self.query_one("#alert-list", DataTable)
        if not append:
            table.clear()
            self.rows = []
        tz = self.crm.tz
        for a in rows:
            severity = Text(t(f"compliance.severity.{a.severity}"),
                            style="bold red" if a.severity == "high" else "")
            table.add_row(f"#{a.id}", moment(a.raised_at, tz), severity,
                          a.customer_name or f"#{a.customer_id}", render(a.kind_label),
                          t("tui.compliance.alerts.frozen") if a.freeze else "",
                          t(f"compliance.alert_status.{a.status}"), render(a.details), key=str(a.id))
        self.rows.extend(rows)
        self._more = len(rows) == PAGE
        if not self.rows:
            self.query_one("#alert-filter", Static).update(t("tui.compliance.alerts.none"))

    def _scrolled(self, scroll_y: float) -> None:
        table = self.query_one("#alert-list", DataTable)
        if scroll_y >= table.max_scroll_y - 1 and self._more and not self._loading and self.rows:
            self._loading = True
            self._fetch(self.rows[-1].id)

    def _highlighted(self) -> AlertView | None:
        table = self.query_one("#alert-list", DataTable)
        if not table.row_count:
            return None
        return self.rows[table.cursor_row] if table.cursor_row < len(self.rows) else None

    def action_clear_alert(self) -> None:
        alert = self._highlighted()
        if alert is None:
            return
        if alert.status != "open":
            self.say(t("compliance.error.alert_closed", id=alert.id), ok=False)
            return
        self.app.push_screen(ClearAlertModal(alert.id), self._cleared)

    @on(DataTable.RowSelected, "#alert-list")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_clear_alert()

    def _cleared(self, text: str | None) -> None:
        if text:
            self.say(text, ok=True)
            self.reload()
            refresh = getattr(self.screen, "refresh_badges", None)
            if refresh is not None:
                refresh()

class ClearAlertModal(ReasonModal):
    """Clear one alert with the required reason; dismisses with the outcome line."""

    SUBMIT_LABEL = "tui.compliance.clear_confirm"
    FIELD = "reason"
    INPUT_ID = "clear-reason"
    NOTICE = "tui.compliance.clear_notice"

    def __init__(self, alert_id: int) -> None:
        super().__init__(t("tui.compliance.clear_title", id=alert_id))
        self.alert_id = alert_id

    def perform(self, text: str) -> None:
        from crm_tui.domain.compliance.alerts import clear_alert

        clear_alert(self.crm, self.actor, self.alert_id, text)

    def done_text(self) -> str:
        return t("tui.compliance.alert_cleared", id=self.alert_id)

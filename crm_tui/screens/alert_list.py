"""The risk alert list, for risk and compliance: open alerts first (or every alert), newest
first, keyset-paged. A risk officer clears the highlighted alert with `c`, giving the
required reason; the freeze it imposed lifts in the same transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.binding import Binding

from crm_tui.i18n import render, t
from crm_tui.screens.reason_modal import ReasonModal
from crm_tui.widgets.data_table import DataTable
from crm_tui.widgets.formatting import moment
from crm_tui.widgets.open_or_all_list import OpenOrAllList

if TYPE_CHECKING:
    from crm_tui.domain.compliance.alerts import AlertView
    from crm_tui.domain.kernel.actor import Actor
    from crm_tui.domain.kernel.context import Crm

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


class AlertListPane(OpenOrAllList):
    """The "Risk alerts" area."""

    MESSAGE_LINE = "#alert-message"
    TABLE_ID, FILTER_ID, COLUMNS = "alert-list", "alert-filter", COLUMNS
    TITLE, NONE = "tui.compliance.alerts.title", "tui.compliance.alerts.none"
    SHOWING_ALL = "tui.compliance.alerts.showing_all"
    SHOWING_OPEN = "tui.compliance.alerts.showing_open"
    DEFAULT_CSS = """
    AlertListPane #alert-list { margin-top: 1; background: $background; }
    """
    BINDINGS = [
        Binding("c", "clear_alert", "tui.compliance.key.clear_alert", id="alert-clear"),
        Binding("o", "toggle_all", "tui.compliance.key.toggle_all", id="alert-toggle"),
        Binding("r", "reload", "tui.compliance.key.reload", id="alert-reload"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_alert":
            from crm_tui.domain.kernel.permissions import Perm, can

            return can(self.actor, Perm.ALERT_CLEAR)
        return True

    def fetch(self, crm: Crm, actor: Actor, show_all: bool, before_id: int | None,
              limit: int) -> list[AlertView]:
        from crm_tui.domain.compliance.alerts import list_alerts

        return list_alerts(crm, actor, status=None if show_all else "open",
                           before_id=before_id, limit=limit)

    def cells(self, a: AlertView) -> list[str | Text]:
        severity = Text(t(f"compliance.severity.{a.severity}"),
                        style="bold red" if a.severity == "high" else "")
        return [f"#{a.id}", moment(a.raised_at, self.crm.tz), severity,
                a.customer_name or f"#{a.customer_id}", render(a.kind_label),
                t("tui.compliance.alerts.frozen") if a.freeze else "",
                t(f"compliance.alert_status.{a.status}"), render(a.details)]

    def action_clear_alert(self) -> None:
        alert: AlertView | None = self.highlighted()
        if alert is None:
            return
        if alert.status != "open":
            self.say(t("compliance.error.alert_closed", id=alert.id), ok=False)
            return
        self.app.push_screen(ClearAlertModal(alert.id), self.changed)

    @on(DataTable.RowSelected, "#alert-list")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_clear_alert()


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

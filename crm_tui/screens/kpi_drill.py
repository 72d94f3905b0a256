"""The records behind one KPI figure (customers, opportunities or tickets), paged from the
database; Enter opens the customer's profile."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from crm_tui.i18n import t
from crm_tui.widgets.bindings import TranslatedFooter
from crm_tui.widgets.data_table import DataTable
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.footer import Footer
from crm_tui.widgets.session import UsesCrm


class KpiDrillScreen(TranslatedFooter, DomainCalls, UsesCrm, Screen[None]):
    BINDINGS = [Binding("escape", "back", "tui.key.back", id="drill-back"),
                Binding("m", "more", "tui.kpi.key_more", id="drill-more")]

    def __init__(self, kpi_filter: Any, figure: str, arg: str | None) -> None:
        super().__init__()
        self.kpi_filter, self.figure, self.arg = kpi_filter, figure, arg
        self.rows: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Static(t("tui.kpi.drill_title", figure=t(f"tui.kpi.figure.{self.figure}"),
                       arg=self.arg or "", period=self.kpi_filter.period.label),
                     classes="pane-title")
        table: DataTable[str] = DataTable(id="drill-list", cursor_type="row", zebra_stripes=True)
        table.add_column(t("tui.kpi.col_kind"), width=8)
        table.add_column("#", width=8)
        table.add_column(t("tui.kpi.col_customer"), width=16)
        table.add_column(t("tui.kpi.col_detail"), width=30)
        yield table
        yield Static("", id="drill-message", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._fetch(0)
        self.query_one(DataTable).focus()

    def _fetch(self, after_id: int) -> None:
        from crm_tui.domain.reporting.drill import drill

        self.call_domain(drill, self.crm, self.actor, self.kpi_filter, self.figure, self.arg,
                         after_id=after_id, group="drill", on_done=self._show)

    def _show(self, rows: list[Any]) -> None:
        table = self.query_one(DataTable)
        for r in rows:
            table.add_row(t(f"tui.kpi.kind.{r.kind}"), str(r.id), r.customer, r.detail)
        self.rows += rows
        self.say(t("tui.kpi.drill_count", n=len(self.rows)), ok=True)

    def action_more(self) -> None:
        if self.rows:
            self._fetch(self.rows[-1].id)

    def action_back(self) -> None:
        self.dismiss(None)

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.cursor_row < len(self.rows):
            open_customer = getattr(self.app, "open_customer", None)
            if open_customer is not None:
                open_customer(self.rows[event.cursor_row].customer_id)

    def say(self, text: str, *, ok: bool) -> None:
        self.query_one("#drill-message", Static).update(text)

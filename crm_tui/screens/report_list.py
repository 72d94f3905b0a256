"""The reports area: every saved report; Enter runs the highlighted one (table and chart, in
the viewer's scope), `n` opens the designer on a new report, `e` on the highlighted one, `x`
deletes it after asking. The same domain calls as `crm report …`."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from crm_tui.i18n import language, t
from crm_tui.widgets.data_table import DataTable
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.session import UsesCrm


class ReportsPane(DomainCalls, UsesCrm, Vertical):
    DEFAULT_CSS = """
    ReportsPane #reports-list { height: 1fr; margin-top: 1; }
    ReportsPane #reports-message.-error { color: $error; }
    """
    BINDINGS = [
        Binding("n", "new_report", "tui.reports.key_new", id="report-new"),
        Binding("e", "edit_report", "tui.reports.key_edit", id="report-edit"),
        Binding("x", "delete_report", "tui.reports.key_delete", id="report-delete"),
        Binding("r", "reload", "tui.reports.key_reload", id="report-reload"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="area-pane")
        self.rows: list[Any] = []
        self._note: str | None = None
        """What the last change said, shown once the list has reloaded."""

    def compose(self) -> ComposeResult:
        yield Static(t("tui.reports.title"), classes="pane-title")
        yield Static(t("tui.reports.hint"), classes="pane-status")
        table: DataTable[str] = DataTable(id="reports-list", cursor_type="row", zebra_stripes=True)
        table.add_column(t("reports.cli.col_title"), key="title", width=34)
        table.add_column(t("reports.cli.col_entity"), key="entity", width=10)
        table.add_column(t("reports.cli.col_name"), key="name", width=26)
        table.add_column(t("reports.cli.col_by"), key="by", width=12)
        yield table
        yield Static("", id="reports-message", classes="pane-status", markup=False)

    def on_mount(self) -> None:
        self.action_reload()

    def focus_default(self) -> None:
        self.query_one("#reports-list", DataTable).focus()

    def action_reload(self) -> None:
        from crm_tui.domain.reporting.reports import list_reports

        self.call_domain(list_reports, self.crm, self.actor, group="list", on_done=self._show)

    def _show(self, rows: list[Any]) -> None:
        self.rows = rows
        table = self.query_one("#reports-list", DataTable)
        table.clear()
        lang = language()
        for r in rows:
            title = r.title(lang) if r.definition else f"⚠ {r.name}"
            entity = t(f"reports.entity.{r.entity}") if r.entity else ""
            table.add_row(title, entity, r.name, r.created_by, key=r.name)
        note, self._note = self._note, None
        self.say(note or (t("tui.reports.count", n=len(rows)) if rows else t("tui.reports.none")),
                 ok=True)

    def _highlighted(self) -> Any:
        table = self.query_one("#reports-list", DataTable)
        if not self.rows or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    @on(DataTable.RowSelected, "#reports-list")
    def _run(self) -> None:
        from crm_tui.screens.report_view import ReportViewScreen

        r = self._highlighted()
        if r is None:
            return
        if r.definition is None:
            self.say(r.problem or "", ok=False)
            return
        self.app.push_screen(ReportViewScreen(r.definition))

    def action_new_report(self) -> None:
        from crm_tui.screens.report_designer import ReportDesignerScreen

        self.app.push_screen(ReportDesignerScreen(None), self._changed)

    def action_edit_report(self) -> None:
        from crm_tui.screens.report_designer import ReportDesignerScreen

        r = self._highlighted()
        if r is not None and r.definition is not None:
            self.app.push_screen(ReportDesignerScreen(r), self._changed)

    def action_delete_report(self) -> None:
        from crm_tui.screens.confirm_modal import ConfirmModal

        r = self._highlighted()
        if r is None:
            return

        def answered(yes: bool | None) -> None:
            from crm_tui.domain.reporting.reports import delete_report

            if yes:
                self.call_domain(delete_report, self.crm, self.actor, r.name, version=r.version,
                                 group="delete", block=True,
                                 on_done=lambda _: self._changed(t("tui.reports.deleted", name=r.name)))

        self.app.push_screen(ConfirmModal(t("tui.reports.delete_title"),
                                          t("tui.reports.delete_body", name=r.name),
                                          t("tui.reports.delete_yes"), t("tui.ux.cancel")), answered)

    def _changed(self, text: str | None) -> None:
        if text:
            self._note = text
            self.action_reload()

    def say(self, text: str, *, ok: bool) -> None:
        line = self.query_one("#reports-message", Static)
        line.update(text)
        line.set_class(not ok, "-error")

"""One report, run: its chart (a measure over the groups, as bars or a line) above its
table, computed by the database in a worker in the viewer's scope; `r` runs it again.

`fill_table` and `draw_chart` are shared with the designer's preview."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from crm_tui.i18n import language, t
from crm_tui.widgets.bindings import TranslatedFooter
from crm_tui.widgets.data_table import DataTable
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.footer import Footer
from crm_tui.widgets.session import UsesCrm

CHART_GROUPS = 24
"""A chart shows the first groups; the table shows every one."""


def fill_table(table: DataTable[str], result: Any) -> None:
    """Columns as wide as their widest cell, measured here (CJK counts double) so the table
    is laid out once, not re-measured as rows arrive."""
    from rich.cells import cell_len

    cells = [[c.cell(v, t) for c, v in zip(result.columns, row, strict=True)] for row in result.rows]
    table.clear(columns=True)
    for i, c in enumerate(result.columns):
        label = c.label(t)
        width = max([cell_len(label), *(cell_len(r[i]) for r in cells)])
        table.add_column(label, key=c.key, width=min(width, 40))
    for r in cells:
        table.add_row(*r)


def _number(value: Any) -> float:
    return 0.0 if value is None else float(value)


def draw_chart(plot: Any, result: Any) -> None:
    """A measure over the groups (dimension cells joined with ·)."""
    if not hasattr(plot, "plt"):
        return
    plt = plot.plt
    plt.clear_data()
    plt.clear_figure()
    dims = [i for i, c in enumerate(result.columns) if c.role == "dimension"]
    measures = [i for i, c in enumerate(result.columns) if c.role == "measure"]
    # the first amount, average or rate says more than a count, when the report has one
    measure = next((i for i in measures if result.columns[i].key != "count"),
                   measures[0] if measures else None)
    if measure is not None and result.rows:
        rows = result.rows[:CHART_GROUPS]
        labels = [" · ".join(result.columns[i].cell(r[i], t) for i in dims) or "∑" for r in rows]
        values = [_number(r[measure]) for r in rows]
        plt.title(result.columns[measure].label(t))
        if result.definition.chart == "line" and len(rows) > 1:
            plt.plot(list(range(1, len(rows) + 1)), values, marker="braille")
            plt.xticks(list(range(1, len(rows) + 1)), labels)
        elif result.definition.chart != "none":
            plt.bar(labels, values)
    plot.refresh()


def chart_widget(id_: str) -> Any:
    try:
        from textual_plotext import PlotextPlot
    except ImportError:  # a chart is a picture of the numbers the table already shows
        return Static("", id=id_)
    return PlotextPlot(id=id_)


class ReportViewScreen(TranslatedFooter, DomainCalls, UsesCrm, Screen[None]):
    DEFAULT_CSS = """
    ReportViewScreen #report-chart { height: 16; }
    ReportViewScreen #report-table { height: 1fr; }
    ReportViewScreen #report-message.-error { color: $error; }
    """
    BINDINGS = [Binding("escape", "back", "tui.key.back", id="report-back"),
                Binding("r", "run", "tui.reports.key_rerun", id="report-rerun")]

    def __init__(self, definition: Any) -> None:
        super().__init__()
        self.definition = definition
        self.result: Any = None

    def compose(self) -> ComposeResult:
        d = self.definition
        yield Static(d.title(language()), id="report-title", classes="pane-title", markup=False)
        yield Static("", id="report-message", classes="pane-status", markup=False)
        yield chart_widget("report-chart")
        yield DataTable(id="report-table", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.action_run()
        self.query_one("#report-table", DataTable).focus()

    def action_run(self) -> None:
        from crm_tui.domain.reporting.reports import run_report

        self.say(t("tui.reports.running"), ok=True)
        self.call_domain(run_report, self.crm, self.actor, self.definition, group="report",
                         on_done=self._show)

    def _show(self, result: Any) -> None:
        self.result = result
        fill_table(self.query_one("#report-table", DataTable), result)
        draw_chart(self.query_one("#report-chart"), result)
        key = "tui.reports.truncated" if result.truncated else "tui.reports.shown"
        self.say(t(key, rows=len(result.rows), book=t(f"tui.reports.book.{result.scope['book']}")),
                 ok=True)

    def action_back(self) -> None:
        self.dismiss(None)

    def say(self, text: str, *, ok: bool) -> None:
        line = self.query_one("#report-message", Static)
        line.update(text)
        line.set_class(not ok, "-error")

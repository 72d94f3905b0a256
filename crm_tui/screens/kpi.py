"""The KPI area: three panels (sales, customer value, service efficiency) for one period
and scope, each figure beside its change against the previous period, charts for the funnel
and the AUM pyramid, and Enter on a figure to open the records behind it.

The filter bar takes a period (2026-Q3, 2026-11, 2026), a branch code, a team, an RM, a
product category and a filterable custom field with its value; `r` refreshes, `w` opens the
early warnings in the same scope. Figures come from `domain.reporting.kpi` in a worker, so
the screen stays responsive while the database aggregates."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Select, Static

from crm_tui.i18n import t
from crm_tui.widgets.data_table import DataTable
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.kpi_rows import change, kpi_rows
from crm_tui.widgets.session import UsesCrm


class KpiPane(DomainCalls, UsesCrm, Vertical):
    DEFAULT_CSS = """
    KpiPane #kpi-filters { height: auto; }
    KpiPane #kpi-filters Input { width: 1fr; }
    KpiPane #kpi-filters Select { width: 1fr; }
    KpiPane #kpi-body { height: 1fr; }
    KpiPane .kpi-table { height: auto; margin-bottom: 1; }
    KpiPane #kpi-charts { height: 12; }
    KpiPane #kpi-message.-error { color: $error; }
    """
    BINDINGS = [
        Binding("r", "refresh", "tui.kpi.key_refresh", id="kpi-refresh"),
        Binding("w", "warnings", "tui.kpi.key_warnings", id="kpi-warnings"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="area-pane")
        self.rows: dict[str, list[tuple[str, str | None]]] = {}

    def compose(self) -> ComposeResult:
        from crm_tui.domain.reporting.period import current_quarter

        yield Static(t("tui.kpi.title"), classes="pane-title")
        with Horizontal(id="kpi-filters"):
            yield Input(current_quarter(self.crm.tz, self.today).label, id="kpi-period",
                        placeholder="2026-Q3")
            yield Input(id="kpi-branch", placeholder=t("tui.kpi.ph_branch"))
            yield Select[int]([], id="kpi-team", prompt=t("tui.kpi.ph_team"))
            yield Input(id="kpi-rm", placeholder=t("tui.kpi.ph_rm"))
            yield Input(id="kpi-category", placeholder=t("tui.kpi.ph_category"))
            yield Select[str]([], id="kpi-field", prompt=t("tui.kpi.ph_field"))
            yield Input(id="kpi-field-value", placeholder=t("tui.kpi.ph_field_value"))
        yield Static("", id="kpi-message", classes="pane-status", markup=False)
        with VerticalScroll(id="kpi-body"):
            with Horizontal(id="kpi-charts"):
                yield _chart("kpi-funnel-chart")
                yield _chart("kpi-pyramid-chart")
            for panel in ("sales", "value", "service"):
                yield Static(t(f"reporting.panel.{panel}"), classes="panel-title")
                table: DataTable[str] = DataTable(id=f"kpi-{panel}", classes="kpi-table",
                                                  cursor_type="row", zebra_stripes=True)
                table.add_column(t("tui.kpi.col_figure"), key="figure", width=24)
                table.add_column(t("tui.kpi.col_value"), key="value", width=18)
                table.add_column(t("tui.kpi.col_change"), key="change", width=10)
                yield table

    def on_mount(self) -> None:
        from crm_tui.domain.reporting.filters import filter_choices

        self.call_domain(filter_choices, self.crm, self.actor, group="kpi-choices",
                         on_done=self._choices)
        self.action_refresh()

    def _choices(self, choices: Any) -> None:
        from crm_tui.i18n import language

        self.query_one("#kpi-team", Select).set_options(
            (label, tid) for tid, label in choices.teams)
        self.query_one("#kpi-field", Select).set_options(
            (en if language() == "en" else zh, key) for key, zh, en in choices.fields)

    def focus_default(self) -> None:
        self.query_one("#kpi-sales", DataTable).focus()

    def _filter(self) -> Any:
        from crm_tui.domain.reporting.base import KpiFilter
        from crm_tui.domain.reporting.period import parse_period

        def text(id_: str) -> str | None:
            return self.query_one(f"#{id_}", Input).value.strip() or None

        def chosen(id_: str) -> Any:
            value = self.query_one(f"#{id_}", Select).value
            return None if value is Select.NULL else value

        key = chosen("kpi-field")
        fields = ((key, text("kpi-field-value") or ""),) if key is not None else ()
        return KpiFilter(parse_period(text("kpi-period") or "", self.crm.tz), text("kpi-branch"),
                         chosen("kpi-team"), text("kpi-rm"), text("kpi-category"), fields)

    @on(Input.Submitted)
    @on(Select.Changed)
    def _submitted(self) -> None:
        self.action_refresh()

    def action_warnings(self) -> None:
        from crm_tui.screens.warnings import WarningsScreen

        try:
            f = self._filter()
        except Exception as exc:  # a bad period: say so under the filters
            from crm_tui.widgets.session import failure_text

            self.say(failure_text(self, exc), ok=False)
            return
        self.app.push_screen(WarningsScreen(f))

    def action_refresh(self) -> None:
        from crm_tui.domain.reporting.kpi import kpis_with_previous

        crm, actor = self.crm, self.actor

        def read() -> Any:
            f = self._filter_now
            return f, kpis_with_previous(crm, actor, f)

        try:
            self._filter_now = self._filter()
        except Exception as exc:  # a bad period: say so under the filters
            from crm_tui.widgets.session import failure_text

            self.say(failure_text(self, exc), ok=False)
            return
        self.say(t("tui.kpi.loading"), ok=True)
        self.call_domain(read, group="kpi", on_done=self._show)

    def _show(self, result: Any) -> None:
        f, (now, before) = result
        self.say(t("tui.kpi.showing", period=f.period.label), ok=True)
        for panel, rows in kpi_rows(now, before).items():
            table = self.query_one(f"#kpi-{panel}", DataTable)
            table.clear()
            self.rows[panel] = []
            for label, value, previous, figure, arg in rows:
                table.add_row(label, value, change(value, previous))
                self.rows[panel].append((figure, arg))
        self._charts(now)

    def _charts(self, k: dict[str, Any]) -> None:
        funnel = self.query_one("#kpi-funnel-chart")
        pyramid = self.query_one("#kpi-pyramid-chart")
        if not hasattr(funnel, "plt"):
            return
        stages = k["sales"]["funnel"]
        funnel.plt.clear_data()
        funnel.plt.title(t("reporting.kpi.funnel"))
        funnel.plt.bar([t(f"reporting.stage.{s['stage']}") for s in stages],
                       [s["entered"] for s in stages])
        funnel.refresh()
        tiers = k["value"]["aum_pyramid"]
        pyramid.plt.clear_data()
        pyramid.plt.title(t("reporting.kpi.pyramid"))
        pyramid.plt.bar([t(f"reporting.tier.{x['tier']}") for x in tiers],
                        [x["customers"] for x in tiers])
        pyramid.refresh()

    @on(DataTable.RowSelected, ".kpi-table")
    def _drill(self, event: DataTable.RowSelected) -> None:
        panel = (event.data_table.id or "").removeprefix("kpi-")
        figure, arg = self.rows.get(panel, [])[event.cursor_row] if self.rows.get(panel) else (None, None)
        if figure is None:
            self.say(t("tui.kpi.no_drill"), ok=False)
            return
        from crm_tui.screens.kpi_drill import KpiDrillScreen

        self.app.push_screen(KpiDrillScreen(self._filter_now, figure, arg))

    def say(self, text: str, *, ok: bool) -> None:
        line = self.query_one("#kpi-message", Static)
        line.update(text)
        line.set_class(not ok, "-error")


def _chart(id_: str) -> Any:
    try:
        from textual_plotext import PlotextPlot
    except ImportError:  # charts are a picture of the numbers the tables already show
        return Static("", id=id_)
    return PlotextPlot(id=id_)

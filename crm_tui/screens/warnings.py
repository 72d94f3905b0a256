"""Early warnings, opened from the KPI area with `w`: customers at risk of churn (the score
and each factor's points, the weights in the title) and cross-sell candidates (`1`/`2`).
The list pages from the database as it scrolls (`m` for more), Enter opens the profile,
`x` exports the whole list (CSV, 0600, masked) to the current folder, `t` makes a follow-up
task per customer for the owning RM (asked first; running it twice makes nothing twice).
The KPI area's branch/team/RM filters narrow the list."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.text import Text
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
from crm_tui.widgets.formatting import money
from crm_tui.widgets.session import UsesCrm

PAGE = 100
FACTORS = ("aum_decline", "activity_drop", "open_complaints", "no_contact")


class WarningsScreen(TranslatedFooter, DomainCalls, UsesCrm, Screen[None]):
    DEFAULT_CSS = """
    WarningsScreen #warn-list { height: 1fr; }
    WarningsScreen #warn-why { height: auto; min-height: 2; padding: 0 1; }
    WarningsScreen #warn-message.-error { color: $error; }
    """
    BINDINGS = [
        Binding("escape", "back", "tui.key.back", id="warn-back"),
        Binding("1", "show('churn')", "tui.warnings.key_churn", id="warn-churn"),
        Binding("2", "show('cross_sell')", "tui.warnings.key_cross_sell", id="warn-cross-sell"),
        Binding("m", "more", "tui.kpi.key_more", id="warn-more"),
        Binding("x", "export", "tui.warnings.key_export", id="warn-export"),
        Binding("t", "tasks", "tui.warnings.key_tasks", id="warn-tasks"),
    ]

    def __init__(self, kpi_filter: Any = None, kind: str = "churn") -> None:
        super().__init__()
        self.kpi_filter, self.kind = kpi_filter, kind
        self.rows: list[Any] = []
        self.done = False
        self.rules: Any = None

    def compose(self) -> ComposeResult:
        yield Static("", id="warn-title", classes="pane-title", markup=False)
        yield Static("", id="warn-rules", markup=False)
        yield DataTable(id="warn-list", cursor_type="row", zebra_stripes=True)
        yield Static("", id="warn-why", markup=False)
        yield Static("", id="warn-message", classes="pane-status", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#warn-list", DataTable)
        self.watch(table, "scroll_y", self._scrolled, init=False)
        table.focus()
        self.action_show(self.kind)

    @property
    def as_of(self) -> datetime | None:
        from crm_tui.domain.reporting.churn_risk import end_of_day

        return end_of_day(self.crm, self.today)

    def say(self, text: str, *, ok: bool = True) -> None:
        line = self.query_one("#warn-message", Static)
        line.update(text)
        line.set_class(not ok, "-error")

    def action_show(self, kind: str) -> None:
        self.kind, self.rows, self.done = kind, [], False
        self.query_one("#warn-title", Static).update(t(f"reporting.warning.list.{kind}"))
        self.query_one("#warn-why", Static).update("")
        table = self.query_one("#warn-list", DataTable)
        table.clear(columns=True)
        cols = (["score", "customer", "rm", "aum", *FACTORS] if kind == "churn"
                else ["customer", "rm", "aum", "category"])
        for col in cols:
            table.add_column(t(f"reporting.warning.col.{col}"), key=col)
        self.say(t("tui.kpi.loading"))
        self._fetch()

    def _fetch(self) -> None:
        from crm_tui.domain.reporting.warning_lists import warning_page

        crm, actor, kind, f, at = self.crm, self.actor, self.kind, self.kpi_filter, self.as_of
        after = self.rows[-1].cursor() if self.rows else None

        def read() -> Any:
            rules = crm.policy().reporting.churn_risk
            return kind, rules, warning_page(crm, actor, kind, f, as_of=at, after=after, limit=PAGE)

        self.call_domain(read, group="warn", on_done=self._loaded, block=bool(self.rows))

    def _loaded(self, result: Any) -> None:
        kind, self.rules, rows = result
        if kind != self.kind:
            return
        self._show_rules()
        table = self.query_one("#warn-list", DataTable)
        for r in rows:
            table.add_row(*self._cells(r))
        self.rows += rows
        self.done = len(rows) < PAGE
        self.say(t("tui.warnings.count", n=len(self.rows)) if self.rows else t("tui.warnings.empty"))
        self._explain()

    def _show_rules(self) -> None:
        text = ""
        if self.kind == "churn" and self.rules is not None:
            w = self.rules.weights
            text = t("tui.warnings.rules", aum=w.aum_decline, activity=w.activity_drop,
                     complaints=w.open_complaints, contact=w.no_contact,
                     min=self.rules.min_score, window=self.rules.window_days)
        elif self.kind == "cross_sell":
            text = t("tui.warnings.cross_sell_rule")
        self.query_one("#warn-rules", Static).update(text)

    def _cells(self, r: Any) -> list[str | Text]:
        aum = Text(money(Decimal(r.aum)), justify="right")
        if self.kind == "churn":
            points = [Text(str(f.weight) if f.hit else "·", justify="right",
                           style="bold" if f.hit else "dim") for f in r.factors]
            return [Text(str(r.score), style="bold red", justify="right"), r.customer,
                    r.rm or "—", aum, *points]
        return [r.customer, r.rm or "—", aum, t(f"tui.product_category.{r.category}")]

    @on(DataTable.RowHighlighted, "#warn-list")
    def _highlighted(self) -> None:
        self._explain()

    def _explain(self) -> None:
        """Under the list: why the highlighted customer is on it, factor by factor."""
        from crm_tui.domain.reporting.warning_export import factor_text

        table = self.query_one("#warn-list", DataTable)
        why = ""
        if self.kind == "churn" and self.rows and table.cursor_row < len(self.rows):
            r = self.rows[table.cursor_row]
            why = f"{r.customer}: " + " · ".join(
                f"{t('reporting.warning.col.' + f.key)} {factor_text(f, t)}" for f in r.factors)
        self.query_one("#warn-why", Static).update(why)

    def _scrolled(self, scroll_y: float) -> None:
        table = self.query_one("#warn-list", DataTable)
        if scroll_y >= table.max_scroll_y - 1 and self.rows:
            self.action_more()

    def action_more(self) -> None:
        if self.rows and not self.done:
            self._fetch()

    @on(DataTable.RowSelected, "#warn-list")
    def _open(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.cursor_row < len(self.rows):
            self.app.open_customer(self.rows[event.cursor_row].customer_id)  # type: ignore[attr-defined]

    def action_back(self) -> None:
        self.dismiss(None)

    def action_export(self) -> None:
        from crm_tui.domain.reporting.warning_export import export_warnings

        path = Path.cwd() / f"warnings-{self.kind}-{datetime.now(self.crm.tz):%Y%m%d-%H%M%S}.csv"
        self.call_domain(export_warnings, self.crm, self.actor, self.kind, path, "csv",
                         f=self.kpi_filter, as_of=self.as_of, group="warn-export", block=True,
                         on_done=lambda done: self.say(t("reporting.warning.cli.exported",
                                                         n=done.rows, path=str(done.path))))

    def action_tasks(self) -> None:
        from crm_tui.screens.confirm_modal import ConfirmModal

        def answered(yes: bool | None) -> None:
            if yes:
                self._make_tasks()

        self.app.push_screen(ConfirmModal(t("tui.warnings.tasks_title"),
                                          t(f"tui.warnings.tasks_body_{self.kind}"),
                                          t("tui.warnings.tasks_yes"), t("tui.warnings.tasks_no")),
                             answered)

    def _make_tasks(self) -> None:
        from crm_tui.domain.reporting.warning_lists import make_tasks

        self.call_domain(make_tasks, self.crm, self.actor, self.kind, self.kpi_filter,
                         as_of=self.as_of, group="warn-tasks", block=True,
                         on_done=lambda made: self.say(t(
                             "reporting.warning.cli.tasks", created=made.created,
                             existing=made.existing, without_rm=made.without_rm)))

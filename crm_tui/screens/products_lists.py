"""The portfolio work lists for RMs and supervisors (their own scope): customers out of
band, holdings above the customer's risk level, holdings maturing soon. `1`/`2`/`3` switch
lists, the table pages on by keyset as it scrolls, Enter opens the customer, `x` exports
the whole list to a 0600 CSV in the current directory."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from crm_tui.i18n import t
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.formatting import money
from crm_tui.widgets.session import UsesCrm

PAGE = 100
KINDS = ("out_of_band", "above_risk", "maturing")
COLUMNS = {
    "out_of_band": ("customer", "rm", "risk_level", "total", "worst_class", "drift",
                    "classes_out"),
    "above_risk": ("customer", "rm", "risk_level", "product_name", "product_risk", "value_cny"),
    "maturing": ("maturity_date", "customer", "rm", "product_name", "value_cny"),
}


class PortfolioListsPane(UsesCrm, DomainCalls, Vertical):
    DEFAULT_CSS = """
    PortfolioListsPane #plist { height: 1fr; margin-top: 1; }
    PortfolioListsPane #plist-message.-error { color: $error; }
    """
    BINDINGS = [
        Binding("1", "show('out_of_band')", "products.key.out_of_band", id="plist-oob"),
        Binding("2", "show('above_risk')", "products.key.above_risk", id="plist-risk"),
        Binding("3", "show('maturing')", "products.key.maturing", id="plist-maturing"),
        Binding("x", "export", "products.key.export", id="plist-export"),
        Binding("enter", "open", "products.key.open", id="plist-open", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(classes="area-pane")
        self.kind = "out_of_band"
        self.rows: list[Any] = []
        self.after: Any = None

    def compose(self) -> ComposeResult:
        yield Static("", id="plist-title", classes="pane-title")
        table: DataTable[str | Text] = DataTable(id="plist", cursor_type="row",
                                                 zebra_stripes=True)
        yield table
        yield Static("", id="plist-message", classes="pane-status", markup=False)

    def on_mount(self) -> None:
        self.watch(self.query_one("#plist", DataTable), "scroll_y", self._scrolled, init=False)
        self.action_show("out_of_band")

    def focus_default(self) -> None:
        self.query_one("#plist", DataTable).focus()

    def say(self, text: str, ok: bool = True) -> None:
        line = self.query_one("#plist-message", Static)
        line.update(text)
        line.set_class(not ok, "-error")

    def action_show(self, kind: str) -> None:
        self.kind = kind
        self.query_one("#plist-title", Static).update(t(f"products.list.{kind}"))
        table = self.query_one("#plist", DataTable)
        table.clear(columns=True)
        for key in COLUMNS[kind]:
            table.add_column(t(f"products.list.col.{key}"), key=key)
        self.rows, self.after = [], None
        self.say("")
        self._fetch(first=True)

    def _fetch(self, first: bool = False) -> None:
        from crm_tui.domain.products import lists

        after = (0 if self.kind != "maturing" else None) if first else self.after
        self.call_domain(lists.PAGERS[self.kind], self.crm, self.actor, after=after, limit=PAGE,
                         today=self.today, on_done=self._loaded, group="plist", block=not first)

    def _loaded(self, page: Any) -> None:
        table = self.query_one("#plist", DataTable)
        for row in page.rows:
            table.add_row(*self._cells(row))
        self.rows.extend(page.rows)
        self.after = page.after
        if not self.rows:
            self.say(t("products.list.empty"))

    def _cells(self, r: Any) -> list[str | Text]:
        if self.kind == "out_of_band":
            return [r.customer_name, r.rm_name, r.risk_level, Text(money(r.total), justify="right"),
                    t(f"products.asset_class.{r.worst_class}"),
                    Text(f"{r.worst_drift:+.2f}", style="bold red", justify="right"),
                    str(r.classes_out)]
        value = Text(money(r.value_cny), justify="right")
        if self.kind == "above_risk":
            return [r.customer_name, r.rm_name, r.risk_level, f"{r.product_code} {r.product_name}",
                    Text(r.product_risk, style="bold red"), value]
        return [r.maturity_date.isoformat(), r.customer_name, r.rm_name,
                f"{r.product_code} {r.product_name}", value]

    def _scrolled(self, scroll_y: float) -> None:
        table = self.query_one("#plist", DataTable)
        if scroll_y >= table.max_scroll_y - 1 and self.after is not None and self.rows:
            self._fetch()

    def action_open(self) -> None:
        table = self.query_one("#plist", DataTable)
        if self.rows and table.cursor_row < len(self.rows):
            self.app.open_customer(self.rows[table.cursor_row].customer_id)  # type: ignore[attr-defined]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_export(self) -> None:
        from crm_tui.domain.products.lists import export_list

        path = Path.cwd() / f"{self.kind}-{datetime.now(self.crm.tz):%Y%m%d-%H%M%S}.csv"
        self.call_domain(export_list, self.crm, self.actor, self.kind, path, today=self.today,
                         on_done=lambda n: self.say(t("products.list.exported", n=n,
                                                      path=str(path))),
                         group="plist-export", block=True)

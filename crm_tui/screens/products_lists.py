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
from textual.widgets import Static

from crm_tui.i18n import t
from crm_tui.widgets.data_table import DataTable
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.formatting import money
from crm_tui.widgets.paged_table import PagedTable
from crm_tui.widgets.session import UsesCrm
from crm_tui.widgets.status_line import SaysOnLine

PAGE = 100
COLUMNS = {
    "out_of_band": ("customer", "rm", "risk_level", "total", "worst_class", "drift",
                    "classes_out"),
    "above_risk": ("customer", "rm", "risk_level", "product_name", "product_risk", "value_cny"),
    "maturing": ("maturity_date", "customer", "rm", "product_name", "value_cny"),
}


class PortfolioListsPane(UsesCrm, DomainCalls, SaysOnLine, Vertical):
    MESSAGE_LINE = "#plist-message"
    DEFAULT_CSS = """
    PortfolioListsPane #plist { margin-top: 1; }
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

    def compose(self) -> ComposeResult:
        yield Static("", id="plist-title", classes="pane-title")
        yield PagedTable(table_id="plist", status_id="plist-message", page_size=PAGE)

    def on_mount(self) -> None:
        self.action_show("out_of_band")

    @property
    def rows(self) -> list[Any]:
        return self.query_one(PagedTable).rows

    def focus_default(self) -> None:
        self.query_one("#plist", DataTable).focus()

    def action_show(self, kind: str) -> None:
        from crm_tui.domain.products import lists

        self.kind = kind
        self.query_one("#plist-title", Static).update(t(f"products.list.{kind}"))
        paged = self.query_one(PagedTable)
        paged.set_columns([(key, t(f"products.list.col.{key}"), None) for key in COLUMNS[kind]])
        self.say("", ok=True)
        crm, actor, today, pager = self.crm, self.actor, self.today, lists.PAGERS[kind]

        def fetch(after: Any, limit: int) -> Any:
            return pager(crm, actor, after=after, limit=limit, today=today)

        paged.load(fetch, self._cells, first=lists.FIRST[kind])

    def on_paged_table_loaded(self, event: PagedTable.Loaded) -> None:
        if not event.total:
            self.say(t("products.list.empty"), ok=True)

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

    def action_open(self) -> None:
        row = self.query_one(PagedTable).highlighted
        if row is not None:
            self.app.open_customer(row.customer_id)  # type: ignore[attr-defined]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_export(self) -> None:
        from crm_tui.domain.products.lists import export_list

        path = Path.cwd() / f"{self.kind}-{datetime.now(self.crm.tz):%Y%m%d-%H%M%S}.csv"
        self.call_domain(export_list, self.crm, self.actor, self.kind, path, today=self.today,
                         on_done=lambda n: self.say(t("products.list.exported", n=n,
                                                      path=str(path)), ok=True),
                         group="plist-export", block=True)

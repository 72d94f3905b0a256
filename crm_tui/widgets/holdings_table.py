"""Holdings and AUM: one row per product, largest first — units at the latest price, in the
holding's own currency (cost, value, gain) and in CNY — with the total underneath."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from crm_tui.i18n import t
from crm_tui.widgets.data_table import DataTable
from crm_tui.widgets.formatting import money

if TYPE_CHECKING:
    from crm_tui.domain.customers.views import CustomerView

# The value in CNY second: a narrow terminal cuts the product name, never the digits;
# the holding in its own currency follows (scrolls at 80).
COLUMNS = (("tui.holdings.code", 10), ("products.holdings.value_cny", 16),
           ("tui.holdings.product", 26), ("tui.holdings.risk", 4),
           ("products.holdings.currency", 4), ("products.holdings.units", 14),
           ("products.holdings.price", 8), ("products.holdings.cost", 14),
           ("products.holdings.value", 14), ("products.holdings.gain", 13))
NUMBERS = frozenset({1, 5, 6, 7, 8, 9})


class HoldingsTable(Vertical):
    DEFAULT_CSS = """
    HoldingsTable DataTable { height: auto; max-height: 1fr; }
    HoldingsTable #holdings-total { padding: 1 1 0 1; }
    """

    def compose(self) -> ComposeResult:
        table: DataTable[str | Text] = DataTable(id="holdings", cursor_type="row", zebra_stripes=True)
        for n, (key, width) in enumerate(COLUMNS):
            justify = "right" if n in NUMBERS else "left"
            table.add_column(Text(t(key), justify=justify), width=width, key=key)
        yield table
        yield Static("", id="holdings-total")

    def show(self, view: CustomerView) -> None:
        table = self.query_one("#holdings", DataTable)
        table.clear()
        for h in view.holdings:
            gain = h.gain
            table.add_row(
                h.product_code,
                Text(money(h.value_cny) if h.value_cny is not None else t("products.no_rate"),
                     justify="right"),
                h.product_name, h.risk_level,
                h.currency, Text(f"{h.units:,.2f}", justify="right"),
                Text(f"{h.price:.4f}", justify="right"), Text(f"{h.cost:,.2f}", justify="right"),
                Text(f"{h.value:,.2f}", justify="right"),
                Text(f"{gain:+,.2f}", justify="right",
                     style="green" if gain > 0 else ("red" if gain < 0 else "")))
        total = sum((h.amount for h in view.holdings), Decimal(0))
        text = Text.assemble(
            (t("tui.holdings.aum") + "  ", "dim"), (money(view.aum), "bold"),
            ("   " + t("tui.holdings.count", count=len(view.holdings)), "dim"))
        if view.holdings and total != view.aum:
            text.append("   " + t("tui.holdings.sum", amount=money(total)), style="dim")
        self.query_one("#holdings-total", Static).update(text)

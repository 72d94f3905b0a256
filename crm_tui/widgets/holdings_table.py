"""Holdings and AUM: one row per product, largest first, with the total underneath."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from crm_tui.i18n import t
from crm_tui.widgets.formatting import label, money

if TYPE_CHECKING:
    from crm_tui.domain.customers.views import CustomerView

# The amount second: a narrow terminal cuts the product name, never the digits.
COLUMNS = (("code", 12), ("amount", 20), ("product", 28), ("category", 10), ("risk", 8))


class HoldingsTable(Vertical):
    DEFAULT_CSS = """
    HoldingsTable DataTable { height: auto; max-height: 1fr; }
    HoldingsTable #holdings-total { padding: 1 1 0 1; }
    """

    def compose(self) -> ComposeResult:
        table: DataTable[str | Text] = DataTable(id="holdings", cursor_type="row", zebra_stripes=True)
        for key, width in COLUMNS:
            justify = "right" if key == "amount" else "left"
            table.add_column(Text(t(f"tui.holdings.{key}"), justify=justify), width=width, key=key)
        yield table
        yield Static("", id="holdings-total")

    def show(self, view: CustomerView) -> None:
        table = self.query_one("#holdings", DataTable)
        table.clear()
        for h in view.holdings:
            category = label("tui.product_category", h.category)
            table.add_row(h.product_code, Text(money(h.amount), justify="right"),
                          h.product_name, category, h.risk_level)
        total = sum((h.amount for h in view.holdings), Decimal(0))
        text = Text.assemble(
            (t("tui.holdings.aum") + "  ", "dim"), (money(view.aum), "bold"),
            ("   " + t("tui.holdings.count", count=len(view.holdings)), "dim"))
        if view.holdings and total != view.aum:
            text.append("   " + t("tui.holdings.sum", amount=money(total)), style="dim")
        self.query_one("#holdings-total", Static).update(text)

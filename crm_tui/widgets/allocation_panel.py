"""The profile's asset-allocation panel: the customer's weight per asset class beside the
model portfolio for their risk level (a textual-plotext bar chart and a table with the
drift, out-of-band classes marked), the holdings above the risk level, and the ranked
rebalancing moves. Data comes from `domain.products.portfolio.allocation_panel`. With a
purchase among the moves and a role that sells, the profile's `g` turns the suggestion into a proposal
(`domain.sales.rebalancing_proposal`) and the profile's message line says the outcome."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static
from textual_plotext import PlotextPlot

from crm_tui.i18n import t
from crm_tui.widgets.data_table import DataTable
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.formatting import money
from crm_tui.widgets.session import UsesCrm

if TYPE_CHECKING:
    from crm_tui.domain.products.portfolio import PanelData
    from crm_tui.domain.sales.rebalancing_proposal import RebalancingProposal


def _pp(value: object) -> str:
    return f"{value:+.2f}"


class AllocationPanel(UsesCrm, DomainCalls, VerticalScroll):
    DEFAULT_CSS = """
    AllocationPanel { height: 1fr; }
    AllocationPanel #alloc-summary { padding: 0 1; height: auto; }
    AllocationPanel #alloc-top { height: 18; }
    AllocationPanel #alloc-chart-box { width: 1fr; min-width: 30; }
    AllocationPanel #alloc-legend { height: 1; padding: 0 1; }
    AllocationPanel #alloc-model { width: 50; height: auto; max-height: 18; }
    AllocationPanel #alloc-risk { padding: 0 1; height: auto; }
    AllocationPanel #alloc-moves { height: auto; }
    """

    def __init__(self, customer_id: int, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.customer_id = customer_id
        self.data: PanelData | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="alloc-summary")
        with Horizontal(id="alloc-top"):
            with Vertical(id="alloc-chart-box"):
                yield Static(Text.assemble((t("products.panel.chart") + "   ", "bold"),
                                           ("■ ", "blue"), t("products.panel.weight") + "  ",
                                           ("■ ", "grey50"), t("products.panel.target")),
                             id="alloc-legend")
                yield PlotextPlot(id="alloc-chart")
            model: DataTable[str | Text] = DataTable(id="alloc-model", cursor_type="none",
                                                     zebra_stripes=True)
            for key in ("class", "weight", "target", "drift"):
                model.add_column(t(f"products.panel.{key}"), key=key)
            yield model
        yield Static("", id="alloc-risk")
        moves: DataTable[str | Text] = DataTable(id="alloc-moves", cursor_type="row")
        for key in ("rank", "action", "product", "amount", "reason"):
            moves.add_column(t(f"products.panel.{key}"), key=key)
        yield moves

    def load(self) -> None:
        from crm_tui.domain.products.portfolio import allocation_panel

        self.call_domain(allocation_panel, self.crm, self.actor, self.customer_id,
                         today=self.today, on_done=self.show, group="allocation")

    def may_propose(self) -> bool:
        """The profile's `g` is offered only with a purchase to propose, to a seller."""
        from crm_tui.domain.sales.rebalancing_proposal import may_propose

        return may_propose(self.actor, self.data.rebalancing if self.data else None)

    def propose(self) -> None:
        from crm_tui.domain.sales.rebalancing_proposal import propose_rebalancing

        self.call_domain(propose_rebalancing, self.crm, self.actor, self.customer_id,
                         today=self.today, on_done=self._proposed, on_error=self._refused,
                         group="rebalance", block=True)

    def _status(self, text: str, ok: bool) -> None:
        say = getattr(self.screen, "say", None)
        if say is not None:
            say(text, ok=ok)
        else:
            self.say(text, ok=ok)

    def _proposed(self, made: RebalancingProposal) -> None:
        self._status(t("rebalance.made", id=made.opportunity_id, buys=made.buys,
                       total=f"{made.total:,.2f}", sells=made.sells), ok=True)

    def _refused(self, text: str) -> None:
        self._status(text, ok=False)

    def say(self, text: str, ok: bool = True) -> None:
        self.query_one("#alloc-summary", Static).update(Text(text, style="" if ok else "red"))

    def show(self, data: PanelData) -> None:
        self.data = data
        self.screen.refresh_bindings()
        alloc, model = data.allocation, data.model
        if model is None:
            head = t("products.panel.no_model")
        else:
            key = "products.panel.out_of_band" if alloc.out_of_band else "products.panel.in_band"
            head = t("products.panel.summary", level=model.level, band=f"{model.band:g}",
                     total=money(alloc.total), state=t(key))
        self.query_one("#alloc-summary", Static).update(head)
        names = [t(f"products.asset_class.{s.asset_class}") for s in alloc.slices]
        plt = self.query_one(PlotextPlot).plt
        plt.clear_data()
        plt.clear_figure()
        # plotext measures a CJK character as one cell, so the chart holds ASCII only: the
        # classes are numbered and named in the table beside it, the legend sits above.
        plt.multiple_bar([str(n) for n in range(1, len(names) + 1)],
                         [[float(s.weight) for s in alloc.slices],
                          [float(s.target) for s in alloc.slices]], color=["blue", "gray"])
        plt.ylim(0, 100)
        self.query_one(PlotextPlot).refresh()
        table = self.query_one("#alloc-model", DataTable)
        table.clear()
        for n, (name, s) in enumerate(zip(names, alloc.slices, strict=True), 1):
            style = "bold red" if s.outside else ""
            table.add_row(f"{n} {name}", Text(f"{s.weight:.2f}%", justify="right"),
                          Text(f"{s.target:g}%", justify="right"),
                          Text(_pp(s.drift) + (" !" if s.outside else ""), style=style,
                               justify="right"))
        risk = [t("products.panel.above_risk_line", product=a.product_name, risk=a.product_risk,
                  level=a.customer_level, value=money(a.value),
                  action=t(f"products.panel.matrix.{a.action}")) for a in alloc.above_risk]
        self.query_one("#alloc-risk", Static).update(
            Text("\n".join(risk), style="bold red") if risk else t("products.panel.no_above_risk"))
        moves = self.query_one("#alloc-moves", DataTable)
        moves.clear()
        plan = data.rebalancing
        for m in plan.moves:
            moves.add_row(str(m.rank), t(f"products.panel.{m.action}"),
                          f"{m.product_code} {m.product_name}",
                          Text(f"{m.amount:,.2f} {m.currency}", justify="right"),
                          t(m.reason_key, **m.params))
        if plan.blocked_key:
            self.say(head + "  " + t(plan.blocked_key, **plan.blocked_params), ok=False)

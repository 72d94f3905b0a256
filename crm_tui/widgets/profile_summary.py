"""The band at the top of a profile: the facts an RM checks before anything else."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from crm_tui.i18n import t
from crm_tui.widgets.formatting import money, risk_label
from crm_tui.widgets.kyc_checklist import RISK_STYLE
from crm_tui.widgets.tag_list import tag_name

if TYPE_CHECKING:
    from crm_tui.domain.customers.views import CustomerView


def _kyc_text(view: CustomerView) -> Text:
    percent = view.kyc.percent
    style = "green" if view.kyc.complete else ("yellow" if percent >= 50 else "red")
    return Text.assemble(("KYC ", "dim"), (f"{percent}%", style))


class ProfileSummary(Static):
    DEFAULT_CSS = """
    ProfileSummary { height: auto; padding: 1 1; background: $surface; border-bottom: solid $panel; }
    """

    def show(self, view: CustomerView) -> None:
        grid = Table.grid(expand=True, padding=(0, 2))
        grid.add_column(ratio=3)
        grid.add_column(ratio=2)
        grid.add_column(justify="right", ratio=2)
        tier = [tag_name(tag) for tag in view.tags if tag.source == "rule"]
        grid.add_row(
            Text.assemble((view.name, "bold"), "  ", (t(f"customer_kind.{view.kind}"), "dim"),
                          ("  #" + str(view.id), "dim")),
            Text.assemble((t("field.risk_level") + " ", "dim"),
                          (risk_label(view.risk_level), RISK_STYLE.get(view.risk_status, ""))),
            Text.assemble((t("field.aum") + " ", "dim"), (money(view.aum), "bold")),
        )
        grid.add_row(
            Text.assemble((t("tui.profile.rm") + " ", "dim"), view.rm_name or "—",
                          ("  ·  ", "dim"), view.branch_name or "—"),
            _kyc_text(view),
            Text(" · ".join(tier), style="cyan"),
        )
        self.update(grid)

"""The KYC/AML checklist: completeness, every item's state, and the risk assessment.

Problems are spelled out item by item (missing, expired, pending, rejected, expiring)
because "67 %" alone does not tell an RM what to collect on the next visit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from crm_tui.i18n import t
from crm_tui.widgets.formatting import day, risk_label

if TYPE_CHECKING:
    from crm_tui.domain.customers.views import CustomerView, KycChecklist

MARKS = {  # status → (mark, style)
    "ok": ("✓", "green"),
    "expiring": ("!", "yellow"),
    "pending": ("…", "yellow"),
    "expired": ("✗", "red"),
    "rejected": ("✗", "red"),
    "missing": ("✗", "red"),
}
RISK_STYLE = {"valid": "green", "expiring": "yellow", "expired": "red", "missing": "red"}
BAR = 20


def completeness_bar(percent: int) -> Text:
    filled = round(BAR * percent / 100)
    style = "green" if percent == 100 else ("yellow" if percent >= 50 else "red")
    return Text.assemble(("█" * filled, style), ("░" * (BAR - filled), "dim"),
                         f" {percent}%")


def checklist_table(kyc: KycChecklist) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(width=1)
    for _ in range(3):
        table.add_column(no_wrap=True, overflow="ellipsis")
    for item in kyc.items:
        mark, style = MARKS.get(item.status, ("?", ""))
        when = ""
        if item.expires_on:
            key = "tui.kyc.expired_on" if item.status == "expired" else "tui.kyc.valid_until"
            when = t(key, date=day(item.expires_on))
        table.add_row(Text(mark, style=style), t(f"kyc.{item.kind}"),
                      Text(t(f"kyc.status.{item.status}"), style=style), Text(when, style="dim"))
    return table


class KycPanel(Static):
    DEFAULT_CSS = "KycPanel { height: auto; }"

    def show(self, view: CustomerView) -> None:
        kyc = view.kyc
        head = Text.assemble((t("tui.kyc.title"), "bold"), "  ", completeness_bar(kyc.percent))
        risk_style = RISK_STYLE.get(view.risk_status, "")
        risk = Text.assemble(
            (t("field.risk_level") + "  ", "dim"), (risk_label(view.risk_level), "bold"), " · ",
            (t(f"risk.status.{view.risk_status}"), risk_style),
            (" · " + t("tui.kyc.valid_until", date=day(view.risk_valid_until))
             if view.risk_valid_until else "", "dim"),
        )
        parts: list[Text | Table] = [head, checklist_table(kyc)]
        problems = kyc.problems
        if problems:
            todo = t("tui.common.list_sep").join(t(f"kyc.{p.kind}") for p in problems)
            parts.append(Text(t("tui.kyc.todo", items=todo), style="yellow"))
        else:
            parts.append(Text(t("tui.kyc.complete"), style="green"))
        parts += [Text(""), risk]
        self.update(Group(*parts))

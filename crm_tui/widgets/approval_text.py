"""How an approval request reads in a list or a heading: its age and its state.

Shared by the inbox and the request detail (so neither screen imports the other).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from crm_tui.i18n import render, t
from crm_tui.widgets.formatting import money

if TYPE_CHECKING:
    from crm_tui.domain.compliance.approval_views import RequestSummary
    from crm_tui.domain.compliance.trade_view import TradeView

NEEDS_CONFIRMATION = ("large_transaction", "suitability_override")
"""Kinds where `a` asks first: money moves (every large transaction is above the first
threshold by definition) or a sale goes against the suitability matrix."""


def age_text(created: datetime, now: datetime) -> str:
    """How long a request has waited: `3d 4h`, `5h 10m`, `12m`."""
    left = max(now - created, timedelta(0))
    days, rest = divmod(int(left.total_seconds()), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return t("tui.compliance.age.days", d=days, h=hours)
    if hours:
        return t("tui.compliance.age.hours", h=hours, m=minutes)
    return t("tui.compliance.age.minutes", m=minutes)


def state_text(r: RequestSummary) -> str:
    if r.status == "pending":
        role = t(f"role.{r.next_role}") if r.next_role else ""
        return t("tui.compliance.state.waiting", level=r.next_level + 1, total=r.levels_total,
                 role=role)
    return t(f"compliance.status.{r.status}")


def trade_rows(trade: TradeView) -> list[tuple[str, str]]:
    """The trade a transaction request would execute, label by value."""
    amount = money(trade.amount) if trade.currency == "CNY" else \
        f"{trade.amount:,.2f} {trade.currency}"
    product = (f"{trade.product_code} {trade.product_name}"
               + (f" ({trade.product_risk})" if trade.product_risk else "")) \
        if trade.product_code else "—"
    return [
        (t("firstweek.trade.kind"), t(f"compliance.tx_kind.{trade.kind}")),
        (t("firstweek.trade.product"), product),
        (t("firstweek.trade.amount"), amount),
        (t("firstweek.trade.customer"), trade.customer or "—"),
        (t("firstweek.trade.suitability"),
         render(trade.suitability) if trade.suitability else t("firstweek.trade.no_suitability")),
    ]

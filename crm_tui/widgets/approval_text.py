"""How an approval request reads in a list or a heading: its age and its state.

Shared by the inbox and the request detail (so neither screen imports the other).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from crm_tui.i18n import t

if TYPE_CHECKING:
    from crm_tui.domain.compliance.approval_views import RequestSummary

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

"""The approval engine's periodic job: close pending requests past the policy's time."""

from __future__ import annotations

from datetime import datetime

from crm_tui.domain.compliance.approvals import expire_due
from crm_tui.domain.kernel.context import Crm


def run_due(crm: Crm, now: datetime) -> dict[str, int]:
    return {"expired": expire_due(crm, now)}

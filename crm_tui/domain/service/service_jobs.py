"""The service area's periodic job (`crm jobs run`, the app's timer): escalate SLA
breaches, create the period's review tasks, queue today's care greetings and call tasks,
and deliver what is due in the outbox. Each part is idempotent for the same `now`."""

from __future__ import annotations

from datetime import datetime

from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.service.care import run_care
from crm_tui.domain.service.escalation import escalate_breaches
from crm_tui.domain.service.outbox import deliver_due
from crm_tui.domain.service.reviews import generate_reviews


def run_due(crm: Crm, now: datetime) -> dict[str, int]:
    counts = {"ticket_escalated": escalate_breaches(crm, now),
              "review_tasks": generate_reviews(crm, now)}
    counts.update(run_care(crm, now))
    counts.update(deliver_due(crm, now))
    return counts

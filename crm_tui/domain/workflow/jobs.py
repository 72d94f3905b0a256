"""The periodic jobs: one registry that `crm jobs run [--now]` and the app's timer both run.

Each job module exposes ``run_due(crm, now) -> dict[str, int]`` (what it did, as counts) and
must be idempotent: running it twice for the same `now` changes nothing more. A new area adds
its module path to JOB_MODULES; modules are imported on first run, so a job's area never
loads at start-up.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime

from crm_tui.domain.kernel.context import Crm
from crm_tui.store.types import utcnow

JobFn = Callable[[Crm, datetime], dict[str, int]]

JOB_MODULES: tuple[str, ...] = (
    "crm_tui.domain.compliance.approval_jobs",
    "crm_tui.domain.sales.lead_jobs",
    "crm_tui.domain.service.service_jobs",
)


def job_functions() -> list[tuple[str, JobFn]]:
    out = []
    for path in JOB_MODULES:
        module = importlib.import_module(path)
        out.append((path.rsplit(".", 1)[1], module.run_due))
    return out


def run_all(crm: Crm, now: datetime | None = None) -> dict[str, int]:
    """Run every job for `now` (default: the current time), in order; returns merged counts."""
    now = now or utcnow()
    if now.tzinfo is None:
        raise ValueError("naive datetime given to run_all")
    totals: dict[str, int] = {}
    for _name, fn in job_functions():
        for key, value in fn(crm, now).items():
            totals[key] = totals.get(key, 0) + value
    return totals

"""All the KPI panels at once, as the screen, `crm kpi` and reports read them: one read
transaction, every figure an SQL aggregate (see docs/METRICS.md for the definitions)."""

from __future__ import annotations

from typing import Any

from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.reporting.base import KpiFilter, resolve
from crm_tui.domain.reporting.sales_kpis import sales_panel
from crm_tui.domain.reporting.service_kpis import service_panel
from crm_tui.domain.reporting.value_kpis import value_panel


def kpis(crm: Crm, actor: Actor, f: KpiFilter) -> dict[str, Any]:
    """Every figure for `f`, in the shape `crm kpi --json` prints (keys are a contract)."""
    scope = resolve(crm, actor, f)
    policy = crm.policy().reporting
    with crm.db.read() as session:
        return {
            "sales": sales_panel(session, actor, scope),
            "value": value_panel(session, actor, scope, policy),
            "service": service_panel(session, actor, scope),
            "period": {"start": f.period.start, "end": f.period.end},
            "scope": scope.label,
        }


def kpis_with_previous(crm: Crm, actor: Actor, f: KpiFilter) -> tuple[dict[str, Any], dict[str, Any]]:
    """This period's figures and the previous period's, for the change shown beside each."""
    from dataclasses import replace

    return kpis(crm, actor, f), kpis(crm, actor, replace(f, period=f.period.previous()))

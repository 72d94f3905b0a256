"""`crm demo` gives every privacy feature something to show."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from crm_tui.demo.seed import seed_demo
from crm_tui.domain.admin.auth import actor_of
from crm_tui.domain.compliance import approval_views
from crm_tui.domain.compliance.alerts import list_alerts
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.privacy import requests, restricted
from crm_tui.domain.workflow.jobs import run_all
from crm_tui.store.models import Staff
from crm_tui.store.models_privacy import ConsentRecord

NOW = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


def test_demo_privacy(sqlite_crm) -> None:
    crm = sqlite_crm
    seed_demo(crm, system_actor("demo"), customers=600, password="demo-password-1", now=NOW)
    with crm.db.read() as s:
        comp1 = actor_of(s.scalars(select(Staff).where(Staff.username == "comp1")).one())
        risk1 = actor_of(s.scalars(select(Staff).where(Staff.username == "risk1")).one())
        assert (s.scalar(select(func.count()).select_from(ConsentRecord)) or 0) > 600
    rows = requests.list_requests(crm, comp1, now=NOW)
    assert sorted(r.kind for r in rows) == ["access", "access", "correction", "deletion",
                                            "restriction"]
    assert {r.state for r in rows} == {"open", "completed", "refused"}
    assert any(r.overdue for r in rows)
    assert len(restricted.list_restricted(crm, comp1)) == 1
    counts = run_all(crm, NOW)
    assert counts["anonymisation_batches"] == 1 and counts["privacy_bulk_view_alerts"] == 1
    assert "anonymisation_batch" in {r.kind for r in approval_views.inbox(crm, comp1, now=NOW)}
    assert "bulk_viewing" in {a.kind for a in list_alerts(crm, risk1)}
    assert audit.verify_chain(crm.db).ok

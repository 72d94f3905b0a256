"""Every role × every compliance action, against a table written out by hand here (not
derived from the permission matrix, so a wrong matrix fails this test)."""

from __future__ import annotations

import pytest

from crm_tui.domain.compliance import approval_views, approvals
from crm_tui.domain.compliance.alerts import clear_alert, list_alerts
from crm_tui.domain.compliance.event_feed import import_events
from crm_tui.domain.compliance.policy_changes import propose_policy_text
from crm_tui.domain.compliance.sensitive_changes import request_change
from crm_tui.domain.compliance.suitability import suitability_for
from crm_tui.domain.kernel.errors import PermissionDenied
from crm_tui.domain.kernel.permissions import ROLES
from crm_tui.domain.policy.document import default_policy_text
from crm_tui.domain.sales.transactions import record_transaction
from crm_tui.store.models_compliance import RiskAlert
from tests.compliance_world import build_book

ACTOR_OF_ROLE = {"rm": "rm1", "supervisor": "sup1", "branch_head": "bh1", "compliance": "comp1",
                 "risk": "risk1", "service": "svc1", "admin": "admin"}

# action → roles allowed
ALLOWED = {
    "request_sensitive_change": {"rm", "supervisor", "branch_head"},
    "record_transaction": {"rm", "supervisor", "branch_head"},
    "preview_suitability": {"rm", "supervisor", "branch_head"},
    "decide_approvals": {"supervisor", "branch_head", "compliance", "risk"},
    "view_alerts": {"compliance", "risk", "admin"},
    "clear_alert": {"risk"},
    "import_feed": {"admin"},
    "run_jobs": {"admin"},
    "propose_policy": {"admin"},
}


def _actions(crm, book, tmp_path, alert_id):
    c1 = book.customers["c1"]
    feed = tmp_path / "feed.csv"
    feed.write_text("type,customer_id,occurred_at\n", encoding="utf-8")
    return {
        "request_sensitive_change": lambda a: request_change(crm, a, c1, "phone", "13912345678",
                                                          reason="来电"),
        "record_transaction": lambda a: record_transaction(crm, a, c1, "transfer", "100"),
        "preview_suitability": lambda a: suitability_for(crm, a, c1, "P-R1"),
        "decide_approvals": lambda a: approval_views.inbox(crm, a),
        "view_alerts": lambda a: list_alerts(crm, a),
        "clear_alert": lambda a: clear_alert(crm, a, alert_id, "已核实"),
        "import_feed": lambda a: import_events(crm, a, feed),
        "run_jobs": lambda a: approvals.expire_due(crm, actor=a),
        "propose_policy": lambda a: propose_policy_text(crm, a, default_policy_text()),
    }


def test_table_covers_every_role():
    assert set(ACTOR_OF_ROLE) == set(ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_role_against_every_action(sqlite_crm, sqlite_world, tmp_path, role):
    crm, world = sqlite_crm, sqlite_world
    book = build_book(crm, world)
    with crm.db.write() as s:
        alert = RiskAlert(alert_key="m", rule="failed_logins", kind="failed_logins",
                          severity="medium", customer_id=book.customers["c1"], details={})
        s.add(alert)
        s.flush()
        alert_id = alert.id
    actor = world[ACTOR_OF_ROLE[role]]
    wrong = []
    for action, run in _actions(crm, book, tmp_path, alert_id).items():
        try:
            run(actor)
            allowed = True
        except PermissionDenied:
            allowed = False
        if allowed != (role in ALLOWED[action]):
            wrong.append(f"{role} × {action}: {'allowed' if allowed else 'refused'}")
    assert not wrong, wrong

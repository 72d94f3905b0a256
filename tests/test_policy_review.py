"""Reviewing a policy change: the diff in words, the measured impact (rolled back), the
history of versions with proposer and approvers, and one stored version shown."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from crm_tui.domain.compliance import approvals
from crm_tui.domain.compliance.policy_changes import propose_policy_text
from crm_tui.domain.compliance.policy_review import changes_between, policy_history, policy_impact
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.policy.document import default_policy_text
from crm_tui.domain.sales.transactions import record_transaction
from crm_tui.store.models import CustomerTag
from tests.cli_support import crm_cli, init_db
from tests.compliance_world import build_book
from tests.helpers import set_column

CHAIN_2M = ('min_amount = 2000000\ncurrency = "CNY"\nlevels = [{ role = "supervisor" }, '
            '{ role = "branch_head" }]')
CHAIN_2M_RISK = ('min_amount = 2000000\ncurrency = "CNY"\nlevels = [{ role = "supervisor" }, '
                 '{ role = "branch_head" }, { role = "risk" }]')


def _new_policy() -> str:
    text = default_policy_text()
    assert CHAIN_2M in text
    text = text.replace(CHAIN_2M, CHAIN_2M_RISK)
    return text.replace("request_expiry_hours = 72", "request_expiry_hours = 48")


def test_diff_in_words() -> None:
    changes = changes_between(default_policy_text(), _new_policy())
    assert [(c.key, c.params) for c in changes] == [
        ("policy.diff.value", {"path": "approvals.request_expiry_hours", "old": "72", "new": "48"}),
        ("policy.diff.chain_level_added", {"currency": "CNY", "amount": "2,000,000",
                                           "role": "risk"}),
    ]
    from crm_tui.i18n.words import say

    assert say(changes[1].key, changes[1].params) == "approval chain for CNY ≥ 2,000,000: + HQ risk"
    assert changes_between(default_policy_text(), default_policy_text()) == []


def test_impact_is_measured_and_rolled_back(crm, world) -> None:
    book = build_book(crm, world)
    # a pending 3,000,000 subscription now needs supervisor + branch head; the new policy adds risk
    zhang = book.customers["c1"]
    out = record_transaction(crm, world["rm1"], zhang, "subscription", Decimal("3000000"),
                             product_code="P-R3")
    assert out.status == "pending_approval"
    set_column(crm, zhang, aum_fen=550_000_000)  # 5,500,000: 高净值 only under the new rule
    new = _new_policy().replace("value = 6000000", "value = 5000000", 1)
    with crm.db.read() as s:
        before = s.scalar(select(func.count()).select_from(CustomerTag))
    impact = policy_impact(crm, system_actor("t"), new)
    assert impact.rerouted_requests == 1
    assert impact.retagged_customers >= 1
    with crm.db.read() as s:
        assert s.scalar(select(func.count()).select_from(CustomerTag)) == before
    # the compliance officer sees the same words and impact in the request
    rid = propose_policy_text(crm, system_actor("t"), new)
    with crm.db.read() as s:
        from crm_tui.store.models_compliance import ApprovalRequest

        display = s.get(ApprovalRequest, rid).payload["display"]
    assert ["policy.diff.chain_level_added", {"currency": "CNY", "amount": "2,000,000",
                                              "role": "risk"}] in display["policy_changes"]
    assert display["impact"]["rerouted_requests"] == 1
    approvals.approve(crm, world["comp1"], rid, "已复核")
    history = policy_history(crm, world["comp1"])
    assert history[0].active and history[0].approved_by == ("comp1",)
    assert history[0].proposed_by.startswith("t:")


def test_cli_diff_dry_run_history_and_show_version(tmp_path: Path) -> None:
    db = init_db(tmp_path / "crm.db")
    new = tmp_path / "new.toml"
    new.write_text(_new_policy(), encoding="utf-8")
    r = crm_cli("policy", "diff", str(new), "--db", str(db))
    assert r.code == 0, r.err
    assert r.out.splitlines() == ["approvals.request_expiry_hours: 72 → 48",
                                  "approval chain for CNY ≥ 2,000,000: + HQ risk"]
    r = crm_cli("policy", "apply", str(new), "--dry-run", "--json", "--db", str(db))
    assert r.code == 0, r.err
    body = json.loads(r.out)
    assert body["retagged_customers"] == 0 and body["rerouted_requests"] == 0
    assert len(body["changes"]) == 2
    assert crm_cli("policy", "history", "--json", "--db", str(db)).code == 0
    versions = json.loads(crm_cli("policy", "history", "--json", "--db", str(db)).out)
    first = versions[-1]["version"]
    shown = crm_cli("policy", "show", "--version", str(first), "--db", str(db))
    assert shown.code == 0 and "request_expiry_hours = 72" in shown.out
    missing = crm_cli("policy", "show", "--version", "999", "--db", str(db))
    assert missing.code != 0 and "999" in missing.err
    # nothing was proposed by the dry run
    import sqlite3

    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from approval_request").fetchone() == (0,)

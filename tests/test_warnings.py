"""Early warnings on the hand-built branch of tests/warnings_world.py (answers worked out
there, by hand), on SQLite and PostgreSQL: the churn score factor by factor, scope, paging,
the policy's weights and thresholds, cross-sell candidates, idempotent tasks."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm_tui.domain.kernel.errors import PermissionDenied, PolicyInvalid
from crm_tui.domain.policy.document import activate_policy, default_policy_text, parse_policy
from crm_tui.domain.reporting.churn_risk import churn_risks
from crm_tui.domain.reporting.cross_sell import cross_sell_candidates
from crm_tui.domain.reporting.warning_lists import make_tasks, warning_page
from crm_tui.store.models_privacy import AccessLog
from crm_tui.store.models_workflow import Task
from tests.warnings_world import AS_OF, build


def names(rows, ids) -> list[str]:  # type: ignore[no-untyped-def]
    back = {v: k for k, v in ids.items()}
    return [back[r.customer_id] for r in rows]


def test_churn_score_factor_by_factor(crm, world) -> None:
    ids = build(crm, world)
    rows = churn_risks(crm, world["bh1"], as_of=AS_OF)
    assert names(rows, ids) == ["A", "D", "C", "I"]
    assert [r.score for r in rows] == [80, 55, 40, 40]
    a = {f.key: f for f in rows[0].factors}
    assert (a["aum_decline"].hit, a["aum_decline"].weight, a["aum_decline"].params) == (
        True, 35, {"pct": 33, "outflow": "300000.00"})
    assert (a["activity_drop"].hit, a["activity_drop"].params) == (True, {"recent": 2, "before": 4})
    assert (a["open_complaints"].hit, a["open_complaints"].params) == (False, {"n": 0})
    assert (a["no_contact"].hit, a["no_contact"].params) == (True, {"days": 102})
    d = {f.key: f for f in rows[1].factors}
    assert d["aum_decline"].params["pct"] == 100 and not d["activity_drop"].hit
    assert d["open_complaints"].params == {"n": 1} and d["no_contact"].params == {"days": 10}
    assert rows[2].aum == "50000.00" and rows[3].rm is None


def test_scope_never_widens_and_leaves_out_churned_and_restricted(crm, world) -> None:
    ids = build(crm, world)
    assert names(churn_risks(crm, world["rm1"], as_of=AS_OF), ids) == ["A", "C"]
    assert names(churn_risks(crm, world["rm2"], as_of=AS_OF), ids) == ["D"]
    assert names(churn_risks(crm, world["sup1"], as_of=AS_OF), ids) == ["A", "D", "C"]
    assert names(churn_risks(crm, world["bh_sh"], as_of=AS_OF), ids) == ["G"]
    everyone = names(churn_risks(crm, world["comp1"], as_of=AS_OF), ids)
    assert "E" not in everyone and "F" not in everyone and "G" in everyone
    from crm_tui.domain.reporting.base import KpiFilter
    from crm_tui.domain.reporting.churn_risk import default_filter

    narrowed = KpiFilter(default_filter(crm).period, rm="rm2")
    assert names(churn_risks(crm, world["rm1"], narrowed, as_of=AS_OF), ids) == []
    team2 = KpiFilter(default_filter(crm).period, team_id=world.teams["财富二组"])
    assert churn_risks(crm, world["bh1"], team2, as_of=AS_OF) == []


def test_keyset_pages_cover_the_list_once(crm, world) -> None:
    ids = build(crm, world)
    first = churn_risks(crm, world["bh1"], as_of=AS_OF, limit=3)
    rest = churn_risks(crm, world["bh1"], as_of=AS_OF, after=first[-1].cursor(), limit=3)
    assert names(first, ids) + names(rest, ids) == ["A", "D", "C", "I"]
    one = cross_sell_candidates(crm, world["bh1"], as_of=AS_OF, limit=1)
    two = cross_sell_candidates(crm, world["bh1"], as_of=AS_OF, after=one[-1].cursor())
    assert names(one, ids) + names(two, ids) == ["B", "C"]


def test_cross_sell_candidates(crm, world) -> None:
    ids = build(crm, world)
    rows = cross_sell_candidates(crm, world["bh1"], as_of=AS_OF)
    assert [(n, r.category, r.aum) for n, r in zip(names(rows, ids), rows, strict=True)] == [
        ("B", "fund", "1000000.00"), ("C", "deposit", "50000.00")]
    assert names(cross_sell_candidates(crm, world["rm2"], as_of=AS_OF), ids) == []


def test_policy_weights_and_thresholds_drive_the_score(crm, world) -> None:
    from crm_tui.domain.kernel.actor import system_actor

    ids = build(crm, world)
    text = default_policy_text() + """
[reporting.churn_risk]
min_score = 50
aum_decline_pct = 50
no_contact_days = 700

[reporting.churn_risk.weights]
aum_decline = 10
activity_drop = 10
open_complaints = 70
no_contact = 10
"""
    with crm.db.write() as s:
        activate_policy(crm.db, s, system_actor("test"), text)
    crm.forget_policy()
    rows = churn_risks(crm, world["bh1"], as_of=AS_OF)
    # A: 33 % < 50 % no longer counts; 102 days < 700: 10 (activity). D: 10 + 70 = 80.
    # B, C and I: their open complaint alone is 70 now (C's and I's 638 quiet days < 700),
    # in AUM order 1,000,000 > 50,000 > 0. A drops below 50.
    assert [(n, r.score) for n, r in zip(names(rows, ids), rows, strict=True)] == [
        ("D", 80), ("B", 70), ("C", 70), ("I", 70)]


@pytest.mark.parametrize("setting, key", [
    ("[reporting.churn_risk.weights]\naum_decline = 50\n", "reporting.churn_risk.weights"),
    ("[reporting.churn_risk]\nmin_score = 0\n", "reporting.churn_risk.min_score"),
    ("[reporting.churn_risk]\nwindow = 30\n", "reporting.churn_risk.window"),
    ("[reporting.churn_risk]\nactivity_drop_pct = 150\n", "reporting.churn_risk.activity_drop_pct"),
])
def test_a_bad_setting_is_refused_naming_its_key(setting: str, key: str) -> None:
    with pytest.raises(PolicyInvalid) as bad:
        parse_policy(default_policy_text() + "\n" + setting)
    assert bad.value.params["key"] == key
    if key.endswith("weights"):
        assert "add up to 100, not 115" in bad.value.params["detail"]


def test_tasks_for_the_owning_rms_are_made_once(crm, world) -> None:
    ids = build(crm, world)
    made = make_tasks(crm, world["bh1"], "churn", as_of=AS_OF)
    assert (made.created, made.existing, made.without_rm) == (3, 0, 1)  # I has no RM
    again = make_tasks(crm, world["bh1"], "churn", as_of=AS_OF)
    assert (again.created, again.existing, again.without_rm) == (0, 3, 1)
    with crm.db.read() as s:
        tasks = s.execute(select(Task.customer_id, Task.owner_id, Task.kind, Task.entity,
                                 Task.params).order_by(Task.customer_id)).all()
    assert [(c, o) for c, o, *_ in tasks] == sorted(
        [(ids["A"], world["rm1"].id), (ids["C"], world["rm1"].id), (ids["D"], world["rm2"].id)])
    assert {(k, e) for _, _, k, e, _ in tasks} == {("follow_up", "churn_risk")}
    assert {p["score"] for *_, p in tasks} == {80, 55, 40}
    # an RM's own run finds her two already made; cross-sell makes its own kind of task
    assert make_tasks(crm, world["rm1"], "churn", as_of=AS_OF).existing == 2
    assert make_tasks(crm, world["rm1"], "cross_sell", as_of=AS_OF).created == 2
    with pytest.raises(PermissionDenied):
        make_tasks(crm, world["comp1"], "churn", as_of=AS_OF)


def test_a_page_is_written_to_the_access_log(crm, world) -> None:
    ids = build(crm, world)
    with crm.db.read() as s:
        before = s.scalar(select(func.count()).select_from(AccessLog))
    warning_page(crm, world["rm1"], "churn", as_of=AS_OF)
    with crm.db.read() as s:
        row = s.scalars(select(AccessLog).order_by(AccessLog.id.desc())).first()
        after = s.scalar(select(func.count()).select_from(AccessLog))
    assert after == before + 1
    assert row.action == "list" and row.staff_name == "rm1"
    assert row.ids == f",{ids['A']},{ids['C']},"

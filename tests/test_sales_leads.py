"""Leads: sealing and linking, rule-ordered assignment, round-robin fairness, least-loaded,
fallback to the unassigned queue, disabled staff, reassignment, the first-contact SLA job
(fixed clock, idempotent) and the contact that stops the clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm_tui.domain.customers.interactions import NewInteraction, log_interaction
from crm_tui.domain.kernel.errors import PermissionDenied, ValidationFailed
from crm_tui.domain.sales import lead_jobs, leads
from crm_tui.domain.workflow.jobs import run_all
from crm_tui.store.models import AuditEvent
from crm_tui.store.models_sales import AssignmentCursor, Lead
from crm_tui.store.models_workflow import Notification, Task
from tests.helpers import make_customer
from tests.sales_support import T0, disable, use_rules

TEAM_RR = '''
[[sales.assignment_rules]]
name = "vip_rm3"
min_assets = 5000000
rm = "rm3"

[[sales.assignment_rules]]
name = "bj_team"
branch = "BJ01"
team = "财富一组"
method = "round_robin"
'''


def _lead(crm, actor, name="客户甲", now=T0, **raw):
    data = {"name": name, "source": "web", "branch_code": "BJ01", **raw}
    return leads.create_lead(crm, actor, data, now=now)


def _row(crm, lead_id) -> Lead:
    with crm.db.read() as s:
        return s.get(Lead, lead_id)


def test_lead_is_sealed_linked_by_blind_index_and_assigned(crm, world):
    use_rules(crm, TEAM_RR)
    cid = make_customer(crm, world["rm1"], "张三", phone="13912345678")
    lid = _lead(crm, world["sup1"], name="张三", phone="139 1234 5678", source="推荐")
    row = _row(crm, lid)
    assert row.customer_id == cid  # linked, not duplicated
    assert "13912345678" not in (row.phone_enc or "") and row.phone_last4 == "5678"
    assert row.source == "referral" and row.owner_id in (world["rm1"].id, world["rm2"].id)
    assert row.assigned_at == T0 and row.first_contact_due == T0 + timedelta(hours=24)
    with crm.db.read() as s:
        note = s.scalars(select(Notification).where(Notification.staff_id == row.owner_id)).one()
        task = s.scalars(select(Task).where(Task.entity == "lead", Task.entity_id == lid)).one()
    assert note.message_key == "sales.notify.lead_assigned"
    assert task.kind == "lead_contact" and task.due_at == row.first_contact_due


def test_bad_lead_is_refused_with_every_field(crm, world):
    with pytest.raises(ValidationFailed) as exc:
        leads.create_lead(crm, world["rm1"], {"name": "", "source": "tv", "phone": "123",
                                             "estimated_assets": "-5"}, now=T0)
    assert set(exc.value.by_field()) == {"name", "source", "phone", "estimated_assets"}
    with crm.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Lead)) == 0


def test_rule_order_first_match_wins(crm, world):
    use_rules(crm, TEAM_RR)
    vip = _lead(crm, world["sup1"], estimated_assets="8000000")
    small = _lead(crm, world["sup1"], estimated_assets="100000")
    assert _row(crm, vip).owner_id == world["rm3"].id
    assert _row(crm, vip).assignment_rule == "vip_rm3"
    assert _row(crm, small).assignment_rule == "bj_team"


def test_round_robin_is_fair_and_keeps_its_cursor_in_the_db(crm, world):
    use_rules(crm, TEAM_RR)
    ids = [_lead(crm, world["sup1"], name=f"客户{i}") for i in range(7)]
    owners = [_row(crm, i).owner_id for i in ids]
    counts = {o: owners.count(o) for o in set(owners)}
    assert set(counts) == {world["rm1"].id, world["rm2"].id}
    assert max(counts.values()) - min(counts.values()) <= 1
    assert owners[0] != owners[1]  # alternates
    with crm.db.read() as s:
        assert s.scalar(select(AssignmentCursor.last_staff_id)) == owners[-1]


def test_disabled_staff_get_nothing(crm, world):
    use_rules(crm, TEAM_RR)
    disable(crm, "rm2")
    disable(crm, "rm3")
    ids = [_lead(crm, world["sup1"], estimated_assets=a) for a in ("9000000", "1", "2", "3")]
    owners = {_row(crm, i).owner_id for i in ids}
    assert owners == {world["rm1"].id}  # the VIP rule's RM is disabled: next rule


def test_least_loaded(crm, world):
    use_rules(crm, TEAM_RR.replace('"round_robin"', '"least_loaded"'))
    first = [_lead(crm, world["sup1"], name=f"甲{i}") for i in range(3)]
    # rm1 (lower id) took 1st and 3rd; contacting doesn't close a lead's load, conversion does
    owners = [_row(crm, i).owner_id for i in first]
    assert owners == [world["rm1"].id, world["rm2"].id, world["rm1"].id]
    nxt = _lead(crm, world["sup1"], name="乙")
    assert _row(crm, nxt).owner_id == world["rm2"].id


def test_fallback_to_unassigned_queue_and_supervisor_reassigns(crm, world):
    use_rules(crm, TEAM_RR)
    lid = _lead(crm, world["bh_sh"], branch_code="SH01")
    row = _row(crm, lid)
    assert row.owner_id is None and row.status == "new"
    queue = leads.list_leads(crm, world["sup_sh"], view="unassigned", now=T0)
    assert [v.id for v in queue] == [lid]
    assert leads.list_leads(crm, world["sup1"], view="unassigned", now=T0) == []
    with pytest.raises(PermissionDenied):
        leads.reassign(crm, world["rm_sh"], lid, "rm_sh", now=T0)
    later = T0 + timedelta(hours=5)
    leads.reassign(crm, world["sup_sh"], lid, "rm_sh", now=later)
    row = _row(crm, lid)
    assert row.owner_id == world["rm_sh"].id and row.assigned_at == later
    assert row.first_contact_due == T0 + timedelta(hours=24)  # the clock did not restart
    with crm.db.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.action == "lead.reassign")) == 1


def test_sla_breach_escalates_once_with_a_fixed_clock(crm, world):
    use_rules(crm, TEAM_RR)
    late = _lead(crm, world["sup1"], name="逾期")
    fine = _lead(crm, world["sup1"], name="按时")
    leads.record_contact(crm, world["sup1"], fine, at=T0 + timedelta(hours=2))
    before = T0 + timedelta(hours=23, minutes=59)
    assert lead_jobs.run_due(crm, before) == {"leads_breached": 0, "lead_escalations": 0}
    at = T0 + timedelta(hours=25)
    first = run_all(crm, at)
    assert first["leads_breached"] == 1 and first["lead_escalations"] == 1
    assert run_all(crm, at)["leads_breached"] == 0  # idempotent
    assert lead_jobs.run_due(crm, at) == {"leads_breached": 0, "lead_escalations": 0}
    assert _row(crm, late).breached_at == at and _row(crm, fine).breached_at is None
    with crm.db.read() as s:
        sup = s.scalars(select(Notification).where(
            Notification.staff_id == world["sup1"].id,
            Notification.message_key == "sales.notify.lead_breach")).all()
    assert [n.entity_id for n in sup] == [late]
    breached = leads.list_leads(crm, world["sup1"], view="breached", now=at)
    assert [v.id for v in breached] == [late] and breached[0].breached


def test_logging_an_interaction_with_the_linked_customer_stops_the_clock(crm, world):
    use_rules(crm, TEAM_RR)
    cid = make_customer(crm, world["rm1"], "李四", phone="13700001111")
    lid = _lead(crm, world["sup1"], name="李四", phone="13700001111", now=T0)
    log_interaction(crm, world["rm1"], cid, NewInteraction(channel="phone", subject="首次电话"))
    row = _row(crm, lid)
    assert row.first_contact_at is not None and row.status == "contacted"
    with crm.db.read() as s:
        assert s.scalar(select(Task.status).where(Task.entity_id == lid)) == "cancelled"
    assert lead_jobs.run_due(crm, T0 + timedelta(days=3))["leads_breached"] == 0


def test_bad_rule_is_refused_with_key_and_problem(crm):
    from crm_tui.domain.kernel.errors import PolicyInvalid

    with pytest.raises(PolicyInvalid) as exc:
        use_rules(crm, '[[sales.assignment_rules]]\nname = "x"\nrm = "a"\nteam = "b"\n')
    assert "sales.assignment_rules[0]" in exc.value.message
    assert "exactly one of rm or team" in exc.value.message


"""The complaint loop: every step in order, owned and timestamped; none can be skipped;
a major complaint reaches the branch head and compliance; the ticket follows the loop."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import Blocked, NotFound, ValidationFailed
from crm_tui.domain.service import complaints, tickets
from crm_tui.domain.service.queue import get_ticket
from crm_tui.domain.workflow.notifications import list_notifications
from crm_tui.store.models import Interaction
from crm_tui.store.models_workflow import Task
from tests.conftest import World
from tests.helpers import make_customer


def _complaint(crm: Crm, world: World) -> tuple[int, int]:
    cid = make_customer(crm, world["rm1"], "钱国栋")
    tid = tickets.create_ticket(crm, world["svc1"], cid, {
        "type": "complaint", "priority": "high", "subject": "理财产品销售时未充分揭示风险"})
    view = complaints.complaint_for_ticket(crm, world["svc1"], tid)
    assert view is not None and view.step == "received" and view.next_step == "graded"
    return view.id, tid


@pytest.mark.pg
def test_the_loop_in_order_and_a_skipped_step_refused(crm: Crm, world: World) -> None:
    svc, sup = world["svc1"], world["sup1"]
    cid, tid = _complaint(crm, world)
    with pytest.raises(Blocked) as err:
        complaints.investigate(crm, svc, cid, "sup1", "销售录音显示已口头揭示")
    assert "Graded" in err.value.message and "Investigated" in err.value.message
    with pytest.raises(ValidationFailed):
        complaints.grade(crm, svc, cid, "catastrophic")
    complaints.grade(crm, svc, cid, "serious")
    with pytest.raises(Blocked):  # resolve before investigating
        complaints.resolve(crm, svc, cid, "退还手续费")
    with pytest.raises(Blocked) as refused:  # nor may the ticket skip the loop
        tickets.resolve_ticket(crm, svc, tid, "已处理")
    assert "investigated and resolved" in refused.value.message
    complaints.investigate(crm, sup, cid, "sup1", "双录资料缺少风险揭示书签字页")
    complaints.resolve(crm, sup, cid, "退还认购手续费并补充风险揭示")
    assert get_ticket(crm, svc, tid).state == "resolved"
    with pytest.raises(Blocked):  # closing needs the internal review
        tickets.change_state(crm, svc, tid, "closed")
    with pytest.raises(Blocked):  # review before the customer's feedback
        complaints.review(crm, sup, cid, "双录流程未强制校验", "系统强制签字页上传", "sup1")
    complaints.record_feedback(crm, svc, cid, "客户接受处理结果", satisfied=True)
    complaints.review(crm, world["comp1"], cid, "双录流程未强制校验", "系统强制签字页上传", "sup1")
    tickets.change_state(crm, svc, tid, "closed")
    view = complaints.get_complaint(crm, svc, cid)
    assert view.step == "reviewed" and view.next_step is None
    assert all(s.done and s.at is not None and s.by for s in view.steps)
    assert view.steps[2].detail["owner"] == "sup1"
    with crm.db.read() as s:
        assert s.scalars(select(Task).where(Task.entity == "complaint", Task.entity_id == cid)
                         ).one().owner_id == sup.id
        assert s.scalars(select(Interaction).where(
            Interaction.subject.like(f"%{cid}%"))).first() is not None  # type: ignore[union-attr]
    with pytest.raises(Blocked):
        complaints.review(crm, sup, cid, "x", "y", "sup1")


@pytest.mark.pg
def test_major_complaint_notifies_branch_head_and_compliance(crm: Crm, world: World) -> None:
    cid, _ = _complaint(crm, world)
    complaints.grade(crm, world["svc1"], cid, "major")
    for who in ("bh1", "comp1"):
        notes = list_notifications(crm, world[who])
        assert [n.message_key for n in notes] == ["service.notify.major_complaint"]
    assert list_notifications(crm, world["bh_sh"]) == []  # another branch's head
    assert list_notifications(crm, world["sup1"]) == []


@pytest.mark.pg
def test_outside_scope_is_not_found(crm: Crm, world: World) -> None:
    cid, _ = _complaint(crm, world)
    with pytest.raises(NotFound):
        complaints.grade(crm, world["rm_sh"], cid, "general")
    with pytest.raises(NotFound):
        complaints.grade(crm, world["admin"], cid, "general")

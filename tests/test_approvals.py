"""The approval engine through its first kind, maker-checker on sensitive fields: the
record is untouched until approval; maker ≠ checker; role and scope; stale; expiry;
withdraw; the inbox; audit events; and the database constraint behind maker ≠ checker."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from crm_tui.domain.compliance import approval_views, approvals
from crm_tui.domain.compliance.approvals import Expired, NotDecidable, Stale
from crm_tui.domain.compliance.sensitive_changes import request_change
from crm_tui.domain.customers.profile import get_profile
from crm_tui.domain.customers.records import update_customer
from crm_tui.domain.kernel.errors import PermissionDenied, ValidationFailed
from crm_tui.i18n import render
from crm_tui.store.models import AuditEvent, Customer
from crm_tui.store.models_compliance import ApprovalDecision, ApprovalRequest
from crm_tui.store.types import utcnow
from tests.compliance_world import build_book
from tests.conftest import valid_id

NEW_PHONE = "13912345678"


@pytest.fixture
def book(crm, world):
    return build_book(crm, world)


def _customer(crm, cid: int) -> Customer:
    with crm.db.read() as s:
        c = s.get(Customer, cid)
        assert c is not None
        return c


def _audit_actions(crm, request_id: int) -> list[str]:
    with crm.db.read() as s:
        return list(s.scalars(select(AuditEvent.action).where(
            AuditEvent.entity == "approval_request", AuditEvent.entity_id == str(request_id))
            .order_by(AuditEvent.id)))


def test_request_leaves_record_untouched_and_approval_applies(crm, world, book):
    cid = book.customers["c1"]
    before = _customer(crm, cid)
    rid = request_change(crm, world["rm1"], cid, "phone", NEW_PHONE, reason="客户换号")
    after_request = _customer(crm, cid)
    assert after_request.phone_enc == before.phone_enc
    assert after_request.version == before.version
    # the pending value is not stored in plaintext anywhere in the request
    with crm.db.read() as s:
        req = s.get(ApprovalRequest, rid)
        assert NEW_PHONE not in str(req.payload)
    detail = approval_views.get_request(crm, world["sup1"], rid)
    assert detail.can_decide
    assert detail.changes[0].before == "138****8000"
    assert detail.changes[0].after == "139****5678"
    assert {render(k): render(v) for k, v in detail.evidence} == {"Maker's reason": "客户换号"}

    approvals.approve(crm, world["sup1"], rid, "核实无误")
    c = _customer(crm, cid)
    assert crm.keys.decrypt("phone", c.phone_enc) == NEW_PHONE
    assert c.phone_last4 == "5678"
    assert c.phone_bidx == crm.keys.blind_index("phone", NEW_PHONE)
    assert c.version == before.version + 1
    assert _audit_actions(crm, rid) == ["approval.request", "approval.approve"]
    with crm.db.read() as s:
        applied = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "customer.sensitive_change")).one()
    assert NEW_PHONE not in applied.after and "139****5678" in applied.after
    assert approval_views.get_request(crm, world["rm1"], rid).request.status == "approved"


def test_name_change_updates_pinyin(crm, world, book):
    cid = book.customers["c1"]
    rid = request_change(crm, world["rm1"], cid, "name", "张三丰", reason="来电")
    approvals.approve(crm, world["sup1"], rid)
    c = _customer(crm, cid)
    assert (c.name, c.name_initials) == ("张三丰", "zsf")


def test_maker_cannot_approve_own_request(crm, world, book):
    # a supervisor may make a request; her own approval is refused
    rid = request_change(crm, world["sup1"], book.customers["c1"], "risk_level", "C4", reason="来电")
    with pytest.raises(NotDecidable) as err:
        approvals.approve(crm, world["sup1"], rid)
    assert err.value.key == "compliance.error.own_request"
    assert _customer(crm, book.customers["c1"]).risk_level == "C3"


def test_only_the_role_within_scope_decides(crm, world, book):
    rid = request_change(crm, world["rm1"], book.customers["c1"], "bank_account",
                         "6222000011112222333", reason="来电")
    for who, key in (("rm2", None), ("sup2", "compliance.error.out_of_scope"),
                     ("sup_sh", "compliance.error.out_of_scope"),
                     ("bh1", "compliance.error.wrong_role"),
                     ("comp1", "compliance.error.wrong_role")):
        with pytest.raises((NotDecidable, PermissionDenied)) as err:
            approvals.approve(crm, world[who], rid)
        if key:
            assert err.value.key == key
    assert approval_views.inbox(crm, world["sup2"]) == []
    assert [r.id for r in approval_views.inbox(crm, world["sup1"])] == [rid]
    approvals.approve(crm, world["sup1"], rid)


def test_stale_request_is_refused_and_maker_told(crm, world, book):
    cid = book.customers["c1"]
    rid = request_change(crm, world["rm1"], cid, "phone", NEW_PHONE, reason="来电")
    v = _customer(crm, cid).version
    update_customer(crm, world["rm1"], cid, v, {"address": "北京市朝阳区建国路1号"})
    with pytest.raises(Stale):
        approvals.approve(crm, world["sup1"], rid)
    c = _customer(crm, cid)
    assert crm.keys.decrypt("phone", c.phone_enc) == "13800138000"
    mine = approval_views.my_requests(crm, world["rm1"])
    assert mine[0].id == rid and mine[0].status == "stale"
    assert "stale" in render(mine[0].outcome).lower()
    assert _audit_actions(crm, rid) == ["approval.request", "approval.stale"]
    with crm.db.read() as s:
        assert s.scalar(select(func.count()).select_from(ApprovalDecision)) == 0


def test_reject_needs_comment_and_ends_request(crm, world, book):
    rid = request_change(crm, world["rm1"], book.customers["c1"], "phone", NEW_PHONE, reason="来电")
    with pytest.raises(ValidationFailed):
        approvals.reject(crm, world["sup1"], rid, " ")
    approvals.reject(crm, world["sup1"], rid, "号码与客户签字不符")
    detail = approval_views.get_request(crm, world["rm1"], rid)
    assert detail.request.status == "rejected"
    assert detail.levels[0].comment == "号码与客户签字不符"
    with pytest.raises(NotDecidable):
        approvals.approve(crm, world["sup1"], rid)
    assert _audit_actions(crm, rid) == ["approval.request", "approval.reject"]


def test_withdraw_only_by_maker(crm, world, book):
    rid = request_change(crm, world["rm1"], book.customers["c1"], "phone", NEW_PHONE, reason="来电")
    with pytest.raises(NotDecidable):
        approvals.withdraw(crm, world["rm2"], rid)
    approvals.withdraw(crm, world["rm1"], rid)
    assert approval_views.inbox(crm, world["sup1"]) == []
    with pytest.raises(NotDecidable):
        approvals.approve(crm, world["sup1"], rid)
    assert _audit_actions(crm, rid) == ["approval.request", "approval.withdraw"]


def test_expiry(crm, world, book):
    now = utcnow()
    rid = request_change(crm, world["rm1"], book.customers["c1"], "phone", NEW_PHONE, now=now, reason="来电")
    later = now + timedelta(hours=crm.policy().approvals.request_expiry_hours, seconds=1)
    assert approval_views.inbox(crm, world["sup1"], now=later) == []
    with pytest.raises(Expired):
        approvals.approve(crm, world["sup1"], rid, now=later)
    assert approval_views.get_request(crm, world["rm1"], rid).request.status == "expired"
    rid2 = request_change(crm, world["rm1"], book.customers["c1"], "phone", NEW_PHONE, now=now, reason="来电")
    assert approvals.expire_due(crm, now=now) == 0
    assert approvals.expire_due(crm, now=later) == 1
    assert approval_views.get_request(crm, world["rm1"], rid2).request.status == "expired"
    assert _audit_actions(crm, rid2) == ["approval.request", "approval.expire"]


def test_request_validation(crm, world, book):
    cid = book.customers["c1"]
    with pytest.raises(ValidationFailed) as err:
        request_change(crm, world["rm1"], cid, "national_id", "110101198001010010", reason="来电")
    assert "national_id" in err.value.by_field()
    with pytest.raises(ValidationFailed):
        request_change(crm, world["rm1"], cid, "phone", "13800138000", reason="来电")  # unchanged
    with pytest.raises(ValidationFailed):
        request_change(crm, world["rm1"], cid, "email", "a@b.cn", reason="来电")  # not sensitive
    other_id = valid_id("11010119800101002")
    with pytest.raises(ValidationFailed) as err:  # another customer holds it
        request_change(crm, world["rm1"], cid, "national_id", other_id, reason="来电")
    assert err.value.errors[0].key == "validation.duplicate_id"
    request_change(crm, world["rm1"], cid, "phone", NEW_PHONE, reason="来电")
    with pytest.raises(ValidationFailed) as err:
        request_change(crm, world["rm1"], cid, "phone", "13700000000", reason="来电")
    assert err.value.errors[0].key == "compliance.validation.already_pending"
    with pytest.raises(PermissionDenied):
        request_change(crm, world["svc1"], cid, "phone", "13700000000", reason="来电")


def test_national_id_change_applies_encrypted(crm, world, book):
    cid = book.customers["c1"]
    new_id = valid_id("11010119900202001")
    rid = request_change(crm, world["rm1"], cid, "national_id", new_id, reason="来电")
    approvals.approve(crm, world["sup1"], rid)
    c = _customer(crm, cid)
    assert crm.keys.decrypt("national_id", c.national_id_enc) == new_id
    assert get_profile(crm, world["rm1"], cid).national_id_masked.endswith(new_id[-4:])


def test_inbox_oldest_first_counts_and_history(crm, world, book):
    now = utcnow()
    r1 = request_change(crm, world["rm1"], book.customers["c1"], "phone", NEW_PHONE,
                        now=now - timedelta(hours=2), reason="来电")
    r2 = request_change(crm, world["rm1"], book.customers["c2"], "phone", NEW_PHONE,
                        now=now - timedelta(hours=1), reason="来电")
    inbox = approval_views.inbox(crm, world["sup1"], now=now)
    assert [r.id for r in inbox] == [r1, r2]
    assert inbox[0].maker_name == "王芳" and inbox[0].customer_name == "张三"
    assert inbox[0].age(now) >= timedelta(hours=2)
    assert approval_views.inbox_count(crm, world["sup1"], now=now) == 2
    assert approval_views.inbox_count(crm, world["rm1"], now=now) == 0
    assert [r.id for r in approval_views.inbox(crm, world["sup1"], after=(inbox[0].created_at, r1),
                                          now=now)] == [r2]
    approvals.approve(crm, world["sup1"], r1, now=now)
    assert [r.id for r in approval_views.history(crm, world["sup1"])] == [r1]
    assert [r.id for r in approval_views.history(crm, world["rm1"])] == [r1]
    assert approval_views.history(crm, world["rm2"]) == []
    assert [r.id for r in approval_views.my_requests(crm, world["rm1"])] == [r2, r1]


def test_disabled_or_changed_role_cannot_decide(crm, world, book):
    from crm_tui.domain.admin.staff import set_role

    rid = request_change(crm, world["rm1"], book.customers["c1"], "phone", NEW_PHONE, reason="来电")
    from crm_tui.domain.kernel.sessions import SessionRevoked

    set_role(crm, world["admin"], "sup1", "service")  # not a PII role: applies at once
    with pytest.raises((NotDecidable, PermissionDenied, SessionRevoked)):
        approvals.approve(crm, world["sup1"], rid)  # the Actor says supervisor; the DB does not


def test_database_refuses_self_approval(crm, world, book):
    rid = request_change(crm, world["rm1"], book.customers["c1"], "phone", NEW_PHONE, reason="来电")
    rm1 = world["rm1"].id
    sup1 = world["sup1"].id

    def insert_decision(maker_ref: str, decider_ref: str) -> None:
        with crm.db.write() as s:
            s.execute(text(
                "INSERT INTO approval_decision (request_id, maker_ref, level, role, decider_id,"
                " decider_ref, decider_name, decision, comment, decided_at) VALUES"
                " (:r, :m, 0, 'supervisor', :d, :dr, 'x', 'approved', '', :at)"),
                {"r": rid, "m": maker_ref, "d": rm1, "dr": decider_ref, "at": utcnow()})

    with pytest.raises(IntegrityError):
        insert_decision(f"staff:{rm1}", f"staff:{rm1}")
    # lying about the maker does not get round it: the composite key checks the request
    with pytest.raises(IntegrityError):
        insert_decision(f"staff:{sup1}", f"staff:{rm1}")
    # nor does a decider reference that names someone else
    with pytest.raises(IntegrityError):
        insert_decision(f"staff:{rm1}", f"staff:{sup1}")
    with crm.db.read() as s:
        assert s.scalar(select(func.count()).select_from(ApprovalDecision)) == 0


def test_policy_change_needs_compliance(crm, world, book):
    from crm_tui.domain.compliance.policy_changes import propose_policy_text
    from crm_tui.domain.policy.document import active_policy_text

    new = active_policy_text(crm.db).replace("request_expiry_hours = 72",
                                             "request_expiry_hours = 48")
    rid = propose_policy_text(crm, world["admin"], new)
    assert crm.policy().approvals.request_expiry_hours == 72
    with pytest.raises((NotDecidable, PermissionDenied)):
        approvals.approve(crm, world["admin"], rid)
    with pytest.raises(NotDecidable):
        approvals.approve(crm, world["risk1"], rid)
    assert [r.id for r in approval_views.inbox(crm, world["comp1"])] == [rid]
    approvals.approve(crm, world["comp1"], rid, "已复核")
    assert crm.policy().approvals.request_expiry_hours == 48
    assert active_policy_text(crm.db) == new


def test_policy_change_stale_when_policy_changed_meanwhile(crm, world):
    from crm_tui.domain.compliance.policy_changes import apply_policy_text, propose_policy_text
    from crm_tui.domain.policy.document import active_policy_text

    base = active_policy_text(crm.db)
    rid = propose_policy_text(crm, world["admin"], base.replace("= 72", "= 24"))
    apply_policy_text(crm, world["admin"], base.replace("= 72", "= 96"))
    with pytest.raises(Stale):
        approvals.approve(crm, world["comp1"], rid)
    assert crm.policy().approvals.request_expiry_hours == 96

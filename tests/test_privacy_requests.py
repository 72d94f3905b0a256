"""Rights requests: life cycle, deadlines from the policy, refusals in writing, deletion
restricting the record (out of search, lists, exports and sends), compliance's reasoned look."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from crm_tui.domain.customers import consent, search
from crm_tui.domain.customers.profile import get_profile
from crm_tui.domain.customers.scope import count_in_scope
from crm_tui.domain.data_io.exporter import export_customers
from crm_tui.domain.kernel.errors import (
    Blocked,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from crm_tui.domain.privacy import requests, restricted
from crm_tui.store.models import AuditEvent, Customer
from crm_tui.store.models_privacy import PrivacyRequest
from crm_tui.store.types import utcnow
from tests.helpers import make_customer


def _actions(crm, entity_id=None):
    with crm.db.read() as s:
        q = select(AuditEvent.action).where(AuditEvent.action.like("privacy.%"))  # type: ignore[union-attr]
        if entity_id is not None:
            q = q.where(AuditEvent.entity_id == str(entity_id))
        return s.scalars(q.order_by(AuditEvent.id)).all()


def test_life_cycle_deadline_and_refusal(crm, world) -> None:
    rm1, comp = world["rm1"], world["comp1"]
    cid = make_customer(crm, rm1, "张三")
    now = utcnow()
    rid = requests.open_request(crm, rm1, cid, "correction", detail="地址已变更", now=now)
    view = requests.get_request(crm, rm1, rid, now=now)
    assert view.state == "open" and view.owner == "王芳"
    assert view.due_at == now + timedelta(days=15)  # the policy's default deadline
    assert not view.overdue
    assert requests.get_request(crm, rm1, rid, now=now + timedelta(days=16)).overdue
    with pytest.raises(Blocked):  # one open request per kind
        requests.open_request(crm, rm1, cid, "correction")
    # the front line records, compliance decides
    with pytest.raises(PermissionDenied):
        requests.refuse_request(crm, rm1, rid, "不符合条件的理由")
    with pytest.raises(ValidationFailed):  # a refusal needs a written reason
        requests.refuse_request(crm, comp, rid, "不")
    requests.take_request(crm, comp, rid)
    requests.refuse_request(crm, comp, rid, "申请更正的地址与身份证明不符")
    closed = requests.get_request(crm, comp, rid)
    assert closed.state == "refused" and closed.owner == "黄磊"
    assert closed.refusal_reason == "申请更正的地址与身份证明不符"
    with pytest.raises(Blocked):
        requests.complete_request(crm, comp, rid, "已更正")
    assert _actions(crm, rid) == ["privacy.request.open", "privacy.request.take",
                                  "privacy.request.refuse"]
    # the database itself refuses a refusal without its reason
    with pytest.raises(IntegrityError), crm.db.write() as s:
        s.execute(update(PrivacyRequest).where(PrivacyRequest.id == rid)
                  .values(refusal_reason=""))


def test_scope_of_lists(crm, world) -> None:
    rm1, rm3, comp, admin = world["rm1"], world["rm3"], world["comp1"], world["admin"]
    mine = make_customer(crm, rm1, "张三")
    theirs = make_customer(crm, rm3, "李四")
    requests.open_request(crm, rm1, mine, "access")
    requests.open_request(crm, rm3, theirs, "correction")
    with pytest.raises(NotFound):  # out of her book
        requests.open_request(crm, rm1, theirs, "access")
    assert [v.customer_id for v in requests.list_requests(crm, rm1)] == [mine]
    assert {v.customer_id for v in requests.list_requests(crm, comp, state="open")} == {mine, theirs}
    assert requests.count_open(crm, comp) == 2
    audit_view = requests.list_requests(crm, admin)
    assert len(audit_view) == 2 and all(v.customer_name == "" for v in audit_view)
    with pytest.raises(ValidationFailed):
        requests.list_requests(crm, comp, state="nonsense")


def test_access_needs_its_copy_before_completion(crm, world) -> None:
    rm1, comp = world["rm1"], world["comp1"]
    cid = make_customer(crm, rm1, "张三")
    rid = requests.open_request(crm, rm1, cid, "access")
    with pytest.raises(Blocked):
        requests.complete_request(crm, comp, rid, "已提供")


def test_restriction_withdraws_consents(crm, world) -> None:
    rm1, comp = world["rm1"], world["comp1"]
    cid = make_customer(crm, rm1, "张三")
    consent.record_consent(crm, rm1, cid, "marketing_sms", True, notice_version="2026.1",
                           channel="branch")
    with pytest.raises(ValidationFailed):  # which purposes?
        requests.open_request(crm, rm1, cid, "restriction")
    rid = requests.open_request(crm, rm1, cid, "restriction", purposes=["marketing_sms"],
                                channel="phone")
    requests.complete_request(crm, comp, rid, "已停止营销短信")
    with crm.db.read() as s:
        assert not consent.has_consent(s, cid, "marketing_sms")
        with pytest.raises(consent.NoConsent):
            consent.require_consent(s, cid, "marketing_sms")


def test_deletion_restricts_the_record(crm, world, tmp_path) -> None:
    rm1, comp, bh1 = world["rm1"], world["comp1"], world["bh1"]
    cid = make_customer(crm, rm1, "张三丰")
    keep = make_customer(crm, rm1, "张三")
    for c in (cid, keep):
        consent.record_consent(crm, rm1, c, "marketing_sms", True, notice_version="2026.1",
                               channel="branch")
    before = count_in_scope(crm, rm1)
    rid = requests.open_request(crm, rm1, cid, "deletion", detail="客户要求删除个人信息")
    requests.complete_request(crm, comp, rid, "依反洗钱保存义务限制处理，期满匿名化")
    # gone from search (every role), lists, counts, exports and sends
    for who in (rm1, bh1, comp):
        assert cid not in [r.id for r in search.search_customers(crm, who, "张三")]
    assert count_in_scope(crm, rm1) == before - 1
    report = export_customers(crm, bh1, tmp_path / "book.csv")
    assert "张三丰" not in (tmp_path / "book.csv").read_text(encoding="utf-8-sig")
    assert report.rows == 1
    with pytest.raises(NotFound):
        get_profile(crm, rm1, cid)
    with pytest.raises(NotFound):
        get_profile(crm, comp, cid)  # even compliance needs the reasoned path
    with crm.db.read() as s:
        with pytest.raises(consent.NoConsent):
            consent.require_consent(s, cid, "marketing_sms")
        consent.require_consent(s, keep, "marketing_sms")
        sendable = s.scalars(select(Customer.id).where(consent.sendable_clause("marketing_sms"))
                             ).all()
        assert sendable == [keep]
    # compliance opens it, with a reason that is audited
    with pytest.raises(ValidationFailed):
        restricted.open_restricted(crm, comp, cid, "")
    with pytest.raises(PermissionDenied):
        restricted.open_restricted(crm, rm1, cid, "想看看这个客户")
    view = restricted.open_restricted(crm, comp, cid, "监管检查调阅（京银保监函 12 号）")
    assert view.name == "张三丰"
    with pytest.raises(Blocked):
        restricted.open_restricted(crm, comp, keep, "监管检查调阅材料")
    with crm.db.read() as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.restricted.open")
                       ).one()
        assert "京银保监函" in ev.after and ev.entity_id == str(cid)
    rows = restricted.list_restricted(crm, comp)
    assert [r.customer_id for r in rows] == [cid] and rows[0].since is not None


def test_overdue_request_reminds_its_owner_once(crm, world) -> None:
    from crm_tui.domain.privacy.privacy_jobs import overdue_reminders
    from crm_tui.domain.workflow.notifications import list_notifications

    rm1 = world["rm1"]
    cid = make_customer(crm, rm1, "张三")
    opened = utcnow() - timedelta(days=16)
    rid = requests.open_request(crm, rm1, cid, "correction", now=opened)
    assert overdue_reminders(crm, opened + timedelta(days=14)) == 0  # not yet due
    assert overdue_reminders(crm, utcnow()) == 1
    assert overdue_reminders(crm, utcnow()) == 0
    (note,) = list_notifications(crm, rm1)
    assert note.message_key == "privacy.notify.overdue" and note.params == {"id": rid}

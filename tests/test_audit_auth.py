"""Audit chain tamper evidence, login lockout, and the staff admin rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from crm_tui.domain.admin import auth, staff
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.errors import AccountLocked, AuthFailed, PermissionDenied, ValidationFailed
from crm_tui.store.models import AuditEvent, Staff
from crm_tui.store.types import utcnow
from tests.conftest import PASSWORD
from tests.helpers import make_customer


def _events(crm, n: int, world) -> None:
    for i in range(n):
        make_customer(crm, world["rm1"], f"客户{chr(65 + i)}")


def test_intact_chain_verifies(crm, world) -> None:
    _events(crm, 3, world)
    report = audit.verify_chain(crm.db)
    assert report.ok and report.checked == 4  # db.init + three customers


def test_edited_event_is_named(crm, world) -> None:
    _events(crm, 3, world)
    with crm.db.write() as s:
        victim = s.scalars(select(AuditEvent).order_by(AuditEvent.id).offset(2)).first()
        s.execute(update(AuditEvent).where(AuditEvent.id == victim.id).values(actor_name="mallory"))
    report = audit.verify_chain(crm.db)
    assert not report.ok and report.bad_event_id == victim.id
    assert report.reason == "audit.verify.reason_hash"


def test_deleted_event_breaks_the_next_link(crm, world) -> None:
    _events(crm, 3, world)
    with crm.db.write() as s:
        ids = s.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
        s.execute(text("DELETE FROM audit_event WHERE id = :i"), {"i": ids[1]})
    report = audit.verify_chain(crm.db)
    assert not report.ok and report.bad_event_id == ids[2]
    assert report.reason == "audit.verify.reason_link"


def test_reordered_events_are_caught(crm, world) -> None:
    _events(crm, 3, world)
    cols = ("at", "actor_id", "actor_name", "action", "entity", "entity_id", "before", "after",
            "prev_hash", "hash")
    with crm.db.write() as s:
        a, b = s.scalars(select(AuditEvent).order_by(AuditEvent.id).offset(1).limit(2)).all()
        va = {c: getattr(a, c) for c in cols}
        vb = {c: getattr(b, c) for c in cols}
        s.execute(update(AuditEvent).where(AuditEvent.id == a.id).values(**vb))
        s.execute(update(AuditEvent).where(AuditEvent.id == b.id).values(**va))
    report = audit.verify_chain(crm.db)
    assert not report.ok and report.bad_event_id == a.id


def test_truncated_tail_is_caught(crm, world) -> None:
    _events(crm, 3, world)
    with crm.db.write() as s:
        last = s.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
        s.execute(text("DELETE FROM audit_event WHERE id = :i"), {"i": last})
    report = audit.verify_chain(crm.db)
    assert not report.ok and report.reason == "audit.verify.reason_tail"


def test_failed_change_writes_no_event(crm, world) -> None:
    with crm.db.read() as s:
        before = s.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    with pytest.raises(ValidationFailed):
        make_customer(crm, world["rm1"], "", national_id="x")
    with crm.db.read() as s:
        assert s.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) == before


def test_login_success_failure_and_lockout(crm, world) -> None:
    actor = auth.login(crm, "rm1", PASSWORD)
    assert actor.role == "rm" and actor.username == "rm1"
    with pytest.raises(AuthFailed):
        auth.login(crm, "nobody", PASSWORD)
    for _ in range(4):
        with pytest.raises(AuthFailed):
            auth.login(crm, "rm1", "wrong password")
    with pytest.raises(AccountLocked):
        auth.login(crm, "rm1", "wrong password")
    with pytest.raises(AccountLocked):  # even the right password is refused while locked
        auth.login(crm, "rm1", PASSWORD)
    with crm.db.write() as s:  # thirty minutes later
        s.execute(update(Staff).where(Staff.username == "rm1")
                  .values(locked_until=utcnow() - timedelta(seconds=1)))
    assert auth.login(crm, "rm1", PASSWORD).username == "rm1"
    with crm.db.read() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.entity == "staff")).all()
    assert actions.count("auth.login_failed") == 5
    assert {"auth.locked", "auth.login_refused_locked", "auth.login"} <= set(actions)


def test_staff_admin(crm, world) -> None:
    from crm_tui.domain.compliance import approvals, staff_grants

    admin = world["admin"]
    _, req = staff_grants.add_user(crm, admin, "rm9", "钱多多", "rm", "longpassword", "BJ01",
                                   "财富一组")  # an RM sees PII: compliance approves it
    approvals.approve(crm, world["comp1"], req, "入职审批")
    assert auth.login(crm, "rm9", "longpassword").team_id == world.teams["财富一组"]
    with pytest.raises(ValidationFailed):
        staff_grants.add_user(crm, admin, "rm9", "重复", "rm", "longpassword")
    with pytest.raises(ValidationFailed):
        staff.add_user(crm, admin, "x", "短", "boss", "short")
    with pytest.raises(PermissionDenied):
        staff.add_user(crm, world["bh1"], "rm10", "无权", "rm", "longpassword")
    approvals.approve(crm, world["comp1"], staff_grants.set_role(crm, admin, "rm9", "supervisor"),
                      "岗位调整")
    staff.disable_user(crm, admin, "rm9")
    with pytest.raises(AuthFailed):
        auth.login(crm, "rm9", "longpassword")
    users = {u.username: u for u in staff.list_users(crm, admin)}
    assert users["rm9"].role == "supervisor" and not users["rm9"].active
    with crm.db.read() as s:
        row = s.scalars(select(Staff).where(Staff.username == "rm9")).one()
    assert row.password_hash.startswith("$argon2id$")

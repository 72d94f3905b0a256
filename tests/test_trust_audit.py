"""The keyed audit chain, anchors, row seals and redaction (issue 7). Both backends."""

from __future__ import annotations

import hashlib

from sqlalchemy import select, text, update

from crm_tui.domain.admin import auth
from crm_tui.domain.kernel import audit, seals
from crm_tui.store.models import AuditEvent, AuditHead, Customer
from tests.conftest import PASSWORD
from tests.helpers import make_customer


def _some(crm, world, n: int = 3) -> list[int]:
    return [make_customer(crm, world["rm1"], f"客户{i}") for i in range(n)]


def test_wiping_the_log_is_broken(crm, world) -> None:
    _some(crm, world)
    with crm.db.write() as s:
        s.execute(text("DELETE FROM audit_event"))
        s.execute(text("DELETE FROM audit_head"))
    report = audit.verify_chain(crm.db)
    assert not report.ok and report.reason == "audit.verify.reason_empty"


def test_truncation_with_a_rewritten_head_is_caught_by_the_anchor(crm, world) -> None:
    _some(crm, world)
    kept = audit.anchor(crm.db)
    assert kept.count >= 4 and len(kept.hash) == 64
    _some(crm, world, 2)
    assert audit.verify_chain(crm.db, anchor=kept).ok
    with crm.db.write() as s:  # cut the last three events and point the head at the new end
        ids = s.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
        cut = ids[-5]
        s.execute(text("DELETE FROM audit_event WHERE id >= :i"), {"i": cut})
        prev = s.get(AuditEvent, ids[-6])
        s.execute(update(AuditHead).values(last_event_id=prev.id, last_hash=prev.hash))
    assert audit.verify_chain(crm.db).ok  # without an anchor nobody can tell
    report = audit.verify_chain(crm.db, anchor=kept)
    assert not report.ok and report.reason == "audit.verify.reason_anchor"


def test_an_edit_with_a_recomputed_unkeyed_hash_is_caught(crm, world) -> None:
    _some(crm, world)
    with crm.db.write() as s:
        ev = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
        ev.after = ev.after.replace("客户", "别人")
        ev.payload_digest = audit.payload_digest(ev.before, ev.after)
        ev.hash = hashlib.sha256(b"attacker without the key").hexdigest()
        s.add(ev)
        s.execute(update(AuditHead).values(last_hash=ev.hash))
    report = audit.verify_chain(crm.db)
    assert not report.ok and report.reason == "audit.verify.reason_hash"


def test_a_wrong_key_says_which_key_is_needed(crm, world) -> None:
    _some(crm, world, 1)
    report = audit.verify_chain(crm.db, key=b"\x01" * 32)
    assert not report.ok and report.reason == "audit.verify.reason_key"
    assert report.params["needs"] == crm.keys.audit_key_id


def test_rows_changed_outside_the_product_are_named(crm, world) -> None:
    ids = _some(crm, world)
    auth.login(crm, "rm1", PASSWORD)  # an ORM change to a staff row is sealed too
    assert list(seals.check_data(crm.db, crm.keys.audit_key)) == []
    with crm.db.write() as s:
        s.execute(update(Customer).where(Customer.id == ids[1]).values(aum_fen=99_000_000))
        s.execute(text("UPDATE staff SET role = 'compliance' WHERE username = 'rm2'"))
    found = {(f.entity, f.row_id, f.problem) for f in seals.check_data(crm.db, crm.keys.audit_key)}
    assert ("customer", ids[1], "changed") in found
    assert ("staff", world["rm2"].id, "changed") in found
    assert len(found) == 2


def test_redaction_keeps_the_chain(crm, world) -> None:
    _some(crm, world)
    with crm.db.read() as s:
        victims = s.scalars(select(AuditEvent.id).where(AuditEvent.action == "customer.create")).all()
    assert victims
    with crm.db.write() as s:
        assert audit.redact_payloads(crm.db, s, victims) == len(victims)
    with crm.db.read() as s:
        ev = s.get(AuditEvent, victims[0])
        assert "客户" not in ev.after and ev.after == audit.REDACTED
    assert audit.verify_chain(crm.db).ok
    with crm.db.write() as s:  # a redaction marker is not a licence to edit payloads
        s.execute(update(AuditEvent).where(AuditEvent.id == victims[0])
                  .values(after='{"name": "别人"}'))
    assert audit.verify_chain(crm.db).reason == "audit.verify.reason_payload"


def test_legacy_sha_events_are_rekeyed(crm, world) -> None:
    _some(crm, world)
    with crm.db.write() as s:  # make the chain look like one written before issue 7
        prev = audit.GENESIS
        for ev in s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all():
            ev.scheme, ev.payload_digest, ev.prev_hash = "sha", "", prev
            ev.hash = audit._legacy_digest(ev)
            prev = ev.hash
            s.add(ev)
        s.execute(update(AuditHead).values(last_hash=prev))
    report = audit.verify_chain(crm.db)
    assert report.ok and report.legacy == report.checked
    assert audit.rekey_legacy(crm.db) == report.checked
    again = audit.verify_chain(crm.db)
    assert again.ok and again.legacy == 0 and again.checked == report.checked

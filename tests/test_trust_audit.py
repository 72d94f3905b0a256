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
    return [make_customer(crm, world["rm1"], "客户" + chr(0x7532 + i)) for i in range(n)]


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


def test_db_upgrade_rekeys_an_old_chain_and_seals_its_rows(tmp_path) -> None:
    from tests.cli_support import add_org, crm_cli, init_db, sql

    db = init_db(tmp_path / "old.db")
    add_org(db)
    # what a database from before issue 7 looks like: an unkeyed chain and no seals
    import sqlite3

    from crm_tui.domain.kernel.audit import GENESIS
    conn = sqlite3.connect(db, isolation_level=None)
    prev = GENESIS
    for row in conn.execute("SELECT id, at, actor_id, actor_name, action, entity, entity_id, "
                            "before, after FROM audit_event ORDER BY id").fetchall():
        ev = AuditEvent(id=row[0], at=__import__("datetime").datetime.fromisoformat(row[1])
                        .replace(tzinfo=__import__("datetime").UTC),
                        actor_id=row[2], actor_name=row[3], action=row[4], entity=row[5],
                        entity_id=row[6], before=row[7], after=row[8], prev_hash=prev, hash="")
        digest = audit._legacy_digest(ev)
        conn.execute("UPDATE audit_event SET scheme = 'sha', payload_digest = '', prev_hash = ?, "
                     "hash = ? WHERE id = ?", (prev, digest, row[0]))
        prev = digest
    conn.execute("UPDATE audit_head SET last_hash = ?", (prev,))
    conn.execute("DELETE FROM row_seal")
    conn.close()
    before = crm_cli("audit", "verify", "--db", str(db))
    assert before.code == 0 and "older unkeyed digest" in before.err
    up = crm_cli("db", "upgrade", "--db", str(db))
    assert up.code == 0 and "re-keyed" in up.err, up.err
    after = crm_cli("audit", "verify", "--data", "--db", str(db))
    assert after.code == 0, after.err
    assert "older unkeyed" not in after.err and "data intact" in after.out
    assert sql(db, "SELECT count(*) FROM audit_event WHERE scheme = 'sha'") == [(0,)]


def test_cli_anchor_and_verify(tmp_path) -> None:
    import json

    from tests.cli_support import add_org, crm_cli, init_db, sql

    db = init_db(tmp_path / "a.db")
    r = crm_cli("audit", "anchor", "--json", "--db", str(db))
    assert r.code == 0
    head = json.loads(r.out)
    assert set(head) == {"count", "last_event_id", "hash", "at"} and head["count"] >= 2
    (tmp_path / "anchor.json").write_text(r.out)
    assert "audit anchor:" in crm_cli("audit", "anchor", "--db", str(db)).out
    add_org(db)
    ok = crm_cli("audit", "verify", "--anchor", str(tmp_path / "anchor.json"), "--db", str(db))
    assert ok.code == 0, ok.err
    sql(db, "DELETE FROM audit_event WHERE id >= ?", (head["last_event_id"],))
    (last_id, last_hash) = sql(db, "SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1")[0]
    sql(db, "UPDATE audit_head SET last_event_id = ?, last_hash = ?", (last_id, last_hash))
    assert crm_cli("audit", "verify", "--db", str(db)).code == 0  # the head was rewritten too
    bad = crm_cli("audit", "verify", "--anchor", str(tmp_path / "anchor.json"), "--db", str(db))
    assert bad.code == 1 and "anchor" in bad.err
    sql(db, "UPDATE customer SET name = name")  # no-op
    sql(db, "UPDATE staff SET display_name = '冒名' WHERE username = 'rm1'")
    data = crm_cli("audit", "verify", "--data", "--db", str(db))
    assert data.code == 1 and "changed outside the product" in data.err


def test_a_session_that_outlives_its_transaction_reads_the_head_again(crm, world) -> None:
    """The head is kept between the events of one transaction (no SELECT per event), never
    into the next: another writer may have moved it meanwhile."""
    from sqlmodel import Session

    rm = world["rm1"]
    with Session(crm.db.write_engine, expire_on_commit=False) as long_lived:
        long_lived.info["crm_db"] = crm.db
        audit.record(crm.db, long_lived, rm, "test.one", "test", 1)
        audit.record(crm.db, long_lived, rm, "test.two", "test", 2)  # the kept head
        long_lived.commit()
        with crm.db.write() as other:  # another writer moves the head
            audit.record(crm.db, other, rm, "test.other", "test", 3)
        audit.record(crm.db, long_lived, rm, "test.three", "test", 4)
        long_lived.commit()
        # transactions whose first statement is the event itself (no session check): each
        # still reads the head fresh
        audit.record(crm.db, long_lived, rm, "test.four", "test", 5, check_session=False)
        long_lived.commit()
        with crm.db.write() as other:
            audit.record(crm.db, other, rm, "test.other2", "test", 6)
        audit.record(crm.db, long_lived, rm, "test.five", "test", 7, check_session=False)
        long_lived.commit()
    report = audit.verify_chain(crm.db)
    assert report.ok, report
    with crm.db.read() as s:
        actions = s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-7:] == ["test.one", "test.two", "test.other", "test.three", "test.four",
                            "test.other2", "test.five"]

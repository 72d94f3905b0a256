"""`crm keys rotate`: values stay readable and findable, the old key leaves, a crash resumes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from crm_tui.domain.admin import keys as key_rotation
from crm_tui.domain.admin.auth import login
from crm_tui.domain.compliance import approvals
from crm_tui.domain.compliance.sensitive_changes import request_change
from crm_tui.domain.customers.search import search_customers
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.store.crypto import write_key_file
from crm_tui.store.models import Customer
from crm_tui.store.models_compliance import ApprovalRequest
from tests.cli_support import STAFF_PASSWORD, add_org, copy_db, crm_cli, init_db, key_path, open_db, sql
from tests.compliance_world import build_book
from tests.customer_files import HEADERS_EN, rows, write_csv

COUNT = 40


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("keys")
    db = init_db(base / "crm.db")
    add_org(db)
    body = [[*r, f"62220212{i:08d}"] for i, r in enumerate(rows(COUNT))]
    file = write_csv(base / "in.csv", body, headers=[*HEADERS_EN, "bank_account"])
    assert crm_cli("import", "customers", str(file), "--db", str(db)).code == 0
    return db


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    return copy_db(template, tmp_path)


def plaintexts(db: Path) -> list[tuple[str | None, ...]]:
    crm = open_db(db)
    try:
        return [tuple(crm.keys.decrypt(f, v) for f, v in zip(
            ("national_id", "phone", "bank_account"), r, strict=True))
            for r in sql(db, "SELECT national_id_enc, phone_enc, bank_account_enc FROM customer "
                             "ORDER BY id")]
    finally:
        crm.db.dispose()


def key_ids(path: Path) -> list[str]:
    return sorted(json.loads(path.read_text())["keys"])


def test_rotation_reencrypts_reindexes_and_drops_the_old_key(db: Path, tmp_path: Path) -> None:
    key_file = key_path(db)
    (old,) = key_ids(key_file)
    before = plaintexts(db)
    archive = tmp_path / "retired.key"
    r = crm_cli("keys", "rotate", "--batch", "7", "--archive-old-keys", str(archive), "--db", str(db))
    assert r.code == 0, r.err
    (new,) = key_ids(key_file)
    assert new != old and f"rotated to key {new}: {COUNT} rows" in r.out
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_ids(archive) == [old] and stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert plaintexts(db) == before
    for enc_n, enc_p, enc_b in sql(db, "SELECT national_id_enc, phone_enc, bank_account_enc FROM customer"):
        assert all(v.startswith(new + "$") for v in (enc_n, enc_p, enc_b))
    crm = open_db(db)
    try:
        rm1 = login(crm, "rm1", STAFF_PASSWORD)
        nid, phone, _ = before[3]
        assert len(search_customers(crm, rm1, nid or "")) == 1
        assert len(search_customers(crm, rm1, phone or "")) == 1
        assert sql(db, "SELECT count(*) FROM customer WHERE national_id_bidx = ?",
                   (crm.keys.blind_index("national_id", nid),)) == [(1,)]
    finally:
        crm.db.dispose()
    actions = [a for (a,) in sql(db, "SELECT action FROM audit_event WHERE entity = 'keys' ORDER BY id")]
    assert actions == ["keys.rotate_start", "keys.rotate"]
    assert sql(db, "SELECT value FROM setting WHERE key = 'crypto.active_key'") == [(new,)]
    status = json.loads(crm_cli("keys", "status", "--json", "--db", str(db)).out)
    assert status["active"] == new and status["values_by_key"] == {new: 3 * COUNT}
    assert crm_cli("audit", "verify", "--db", str(db)).code == 0


def test_a_crash_midway_stays_readable_and_resumes(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = key_path(db)
    (old,) = key_ids(key_file)
    before = plaintexts(db)
    real = key_rotation._reseal_batch
    calls = {"n": 0}

    def crash_after_two_batches(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] > 2:
            raise KeyboardInterrupt  # as if the process died here
        return real(*args, **kwargs)

    monkeypatch.setattr(key_rotation, "_reseal_batch", crash_after_two_batches)
    crm = open_db(db)
    with pytest.raises(KeyboardInterrupt):
        key_rotation.rotate_keys(crm, system_actor(), batch=10)
    crm.db.dispose()
    monkeypatch.setattr(key_rotation, "_reseal_batch", real)

    loaded = key_ids(key_file)
    assert len(loaded) == 2 and old in loaded
    new = next(k for k in loaded if k != old)
    by_key = {}
    for (enc,) in sql(db, "SELECT national_id_enc FROM customer"):
        by_key[enc.split("$")[0]] = by_key.get(enc.split("$")[0], 0) + 1
    assert by_key == {new: 20, old: COUNT - 20}
    assert plaintexts(db) == before  # the two-key file opens everything
    assert "interrupted" in crm_cli("keys", "status", "--db", str(db)).out

    r = crm_cli("keys", "rotate", "--db", str(db))
    assert r.code == 0, r.err
    assert "finishing an interrupted rotation" in r.err
    assert key_ids(key_file) == [new]
    assert plaintexts(db) == before
    crm = open_db(db)
    try:
        nid = before[-1][0] or ""
        assert sql(db, "SELECT count(*) FROM customer WHERE national_id_bidx = ?",
                   (crm.keys.blind_index("national_id", nid),)) == [(1,)]
    finally:
        crm.db.dispose()


def test_a_key_from_the_environment_is_not_rotated_here(db: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_KEY", key_path(db).read_text())
    r = crm_cli("keys", "rotate", "--db", str(db))
    assert r.code == 1 and "CRM_KEY" in r.err


# -- sealed values waiting in approval requests --------------------------------------------

NEW_PHONE = "13912345678"
NEW_ACCOUNT = "6217000010082466957"


def _request_tokens(crm) -> dict[int, str]:  # type: ignore[no-untyped-def]
    with crm.db.read() as s:
        return {r.id: r.payload["data"]["value_enc"] for r in s.scalars(select(ApprovalRequest))
                if "value_enc" in r.payload["data"]}


def _customer(crm, cid: int) -> tuple[str | None, str, str | None, str]:  # type: ignore[no-untyped-def]
    with crm.db.read() as s:
        c = s.get(Customer, cid)
        return (crm.keys.decrypt("phone", c.phone_enc), c.phone_bidx,
                crm.keys.decrypt("bank_account", c.bank_account_enc), c.bank_account_bidx)


def test_pending_changes_stay_approvable_after_rotation(crm, world) -> None:  # type: ignore[no-untyped-def]
    book = build_book(crm, world)
    zhang, li = book.customers["c1"], book.customers["c2"]
    write_key_file(crm.key_file, crm.keys)
    old = crm.keys.active
    phone_req = request_change(crm, world["rm1"], zhang, "phone", NEW_PHONE, reason="换号")
    account_req = request_change(crm, world["rm1"], li, "bank_account", NEW_ACCOUNT)
    closed = request_change(crm, world["rm1"], li, "phone", "13600001111")
    approvals.reject(crm, world["sup1"], closed, "客户未本人到场")
    assert {t.split("$")[0] for t in _request_tokens(crm).values()} == {old}

    report = key_rotation.rotate_keys(crm, system_actor(), batch=1)
    new = report.new_key
    assert key_ids(crm.key_file) == [new] and old not in crm.keys.keys
    tokens = _request_tokens(crm)
    assert set(tokens) == {phone_req, account_req, closed}
    assert all(t.startswith(new + "$") for t in tokens.values())
    assert report.rows == 4 + 3  # four customer rows, three requests (the rejected one too)
    assert key_rotation.key_status(crm, system_actor()).values_by_key == {new: 4 * 3 + 3}

    assert approvals.approve(crm, world["sup1"], phone_req) == "approved"
    assert approvals.approve(crm, world["sup1"], account_req) == "approved"
    phone, phone_bidx, _, _ = _customer(crm, zhang)
    assert phone == NEW_PHONE and phone_bidx == crm.keys.blind_index("phone", NEW_PHONE)
    _, _, account, account_bidx = _customer(crm, li)
    assert account == NEW_ACCOUNT
    assert account_bidx == crm.keys.blind_index("bank_account", NEW_ACCOUNT)


def test_a_crash_among_the_requests_resumes(sqlite_crm, sqlite_world,  # type: ignore[no-untyped-def]
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    crm, world = sqlite_crm, sqlite_world
    book = build_book(crm, world)
    write_key_file(crm.key_file, crm.keys)
    old = crm.keys.active
    first = request_change(crm, world["rm1"], book.customers["c1"], "phone", NEW_PHONE)
    second = request_change(crm, world["rm1"], book.customers["c2"], "phone", "13600001111")
    real = key_rotation._reseal_requests
    calls = {"n": 0}

    def crash_after_one_batch(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] > 1:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(key_rotation, "_reseal_requests", crash_after_one_batch)
    with pytest.raises(KeyboardInterrupt):
        key_rotation.rotate_keys(crm, system_actor(), batch=1)
    monkeypatch.setattr(key_rotation, "_reseal_requests", real)
    loaded = key_ids(crm.key_file)
    new = next(k for k in loaded if k != old)
    assert sorted(loaded) == sorted([old, new])
    assert [t.split("$")[0] for _, t in sorted(_request_tokens(crm).items())] == [new, old]

    report = key_rotation.rotate_keys(crm, system_actor(), batch=1)
    assert report.resumed and report.new_key == new and report.rows == 1
    assert key_ids(crm.key_file) == [new]
    assert approvals.approve(crm, world["sup1"], second) == "approved"
    assert approvals.approve(crm, world["sup1"], first) == "approved"
    assert _customer(crm, book.customers["c2"])[0] == "13600001111"
    assert _customer(crm, book.customers["c1"])[0] == NEW_PHONE

"""`crm keys rotate`: values stay readable and findable, the old key leaves, a crash resumes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from crm_tui.domain import keys as key_rotation
from crm_tui.domain.actor import system_actor
from crm_tui.domain.auth import login
from crm_tui.domain.customers import search_customers
from tests.cli_support import STAFF_PASSWORD, add_org, copy_db, crm_cli, init_db, open_db, sql
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
    key_file = db.with_name("crm.db.key")
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
    key_file = db.with_name("crm.db.key")
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
    monkeypatch.setenv("CRM_KEY", db.with_name("crm.db.key").read_text())
    r = crm_cli("keys", "rotate", "--db", str(db))
    assert r.code == 1 and "CRM_KEY" in r.err

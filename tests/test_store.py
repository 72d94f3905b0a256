"""The store: migrations equal the models on both backends, encryption at rest, UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlmodel import SQLModel

from crm_tui.store.crypto import KeyMaterialError, Keyring
from crm_tui.store.db import Database
from crm_tui.store.migrate import current_revision, head_revision, upgrade
from crm_tui.store.models import Interaction
from tests.helpers import make_customer, new_id


@pytest.fixture
def empty_url(backend, tmp_path, request) -> str:
    if backend == "pg":
        return request.getfixturevalue("pg_schema_url")
    return f"sqlite:///{tmp_path / 'fresh.db'}"


def test_migrations_build_exactly_the_models(empty_url) -> None:
    db = Database(empty_url)
    upgrade(db.write_engine)
    assert current_revision(db.write_engine) == head_revision()
    with db.write_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []
    upgrade(db.write_engine)  # idempotent
    db.dispose()


def test_sqlite_pragmas(tmp_path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'p.db'}")
    with db.write_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    db.dispose()


def test_keyring_round_trip_tamper_and_rotation() -> None:
    ring = Keyring.generate()
    token = ring.encrypt("phone", "13812345678")
    assert token and "13812345678" not in token
    assert ring.decrypt("phone", token) == "13812345678"
    with pytest.raises(KeyMaterialError):
        ring.decrypt("national_id", token)  # bound to its column
    raw = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(KeyMaterialError):
        ring.decrypt("phone", raw)
    assert ring.blind_index("phone", "13812345678") == ring.blind_index("phone", "13812345678")
    assert ring.blind_index("phone", "x") != ring.blind_index("national_id", "x")
    assert Keyring.from_json(ring.to_json()).decrypt("phone", token) == "13812345678"
    with pytest.raises(KeyMaterialError):
        Keyring.generate().decrypt("phone", token)


def test_plaintext_never_reaches_the_database_file(sqlite_crm, sqlite_world, tmp_path) -> None:
    nid = new_id()
    make_customer(sqlite_crm, sqlite_world["rm1"], "张三", national_id=nid, phone="13987654321",
                  bank_account="6222029876543210")
    sqlite_crm.db.dispose()
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("crm.db*"))
    for secret in (nid, "13987654321", "6222029876543210"):
        assert secret.encode() not in blob


def test_times_round_trip_as_utc(crm, world) -> None:
    cid = make_customer(crm, world["rm1"], "张三")
    with crm.db.write() as s:
        s.add(Interaction(customer_id=cid, channel="phone", subject="x",
                          occurred_at=datetime(2026, 1, 1, 1, 30, tzinfo=UTC)))
    with crm.db.read() as s:
        row = s.scalars(select(Interaction)).one()
    assert row.occurred_at == datetime(2026, 1, 1, 1, 30, tzinfo=UTC)
    assert row.occurred_at.tzinfo is not None

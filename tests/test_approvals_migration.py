"""Migration 0002 brings a 0001 database (with data) forward on SQLite and PostgreSQL, and
the result matches the models exactly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

from crm_tui.store.migrate import current_revision, head_revision, upgrade


@pytest.fixture(params=["sqlite", "pg"])
def engine(request, tmp_path):
    if request.param == "pg":
        url = request.getfixturevalue("pg_schema_url")
    else:
        url = f"sqlite:///{tmp_path / 'old.db'}"
    eng = create_engine(url)
    yield eng
    eng.dispose()


def test_upgrade_from_0001_keeps_data_and_matches_models(engine):
    upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO branch (code, name, region) VALUES ('BJ01', '北京', '华北')"))
    assert "approval_request" not in inspect(engine).get_table_names()
    upgrade(engine, "0002")
    assert current_revision(engine) == "0002"
    upgrade(engine)  # and on to whatever later revisions there are
    assert current_revision(engine) == head_revision()
    names = set(inspect(engine).get_table_names())
    assert {"approval_request", "approval_decision", "core_event", "risk_alert"} <= names
    with engine.connect() as conn:
        assert conn.execute(text("SELECT code FROM branch")).scalar() == "BJ01"
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []
    checks = {c["name"] for c in inspect(engine).get_check_constraints("approval_decision")}
    assert "ck_approval_decision_maker_not_checker" in checks

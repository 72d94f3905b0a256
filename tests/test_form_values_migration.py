"""Migration 0015 on a 0014 database: leads, opportunities and tickets get their `custom`
column (existing rows read `{}`), and a filterable field already defined for them gets the
same expression index the definition code creates, so a list filter reads it (SQLite and
PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, select, text

from crm_tui.domain.forms.definitions import _index_name, custom_value_expr
from crm_tui.store.migrate import upgrade


@pytest.fixture(params=["sqlite", "pg"])
def engine(request, tmp_path):
    url = request.getfixturevalue("pg_schema_url") if request.param == "pg" \
        else f"sqlite:///{tmp_path / 'old.db'}"
    eng = create_engine(url)
    yield eng
    eng.dispose()


def test_0015_adds_the_column_and_indexes_defined_filterable_fields(engine) -> None:
    upgrade(engine, "0014")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO field_definition (entity, key, type, label_zh, label_en, required, "
            "choices, help_zh, help_en, section, position, sensitive, filterable, status, "
            "version, created_at, updated_at) VALUES ('ticket', 'severity', 'choice', '严重程度', "
            "'Severity', false, '[\"低\", \"高\"]', '', '', 'custom', 0, false, true, 'active', 1, "
            "'2026-12-01 00:00:00+00:00', '2026-12-01 00:00:00+00:00')"))
    upgrade(engine, "0015")
    for table in ("lead", "opportunity", "ticket"):
        assert "custom" in {c["name"] for c in inspect(engine).get_columns(table)}
    # the index is on the very expression the filters compare (the planner can use it)
    from sqlalchemy import JSON, column, table

    t = table("ticket", column("id"), column("custom", JSON))
    q = select(t.c.id).where(custom_value_expr("ticket", "severity", t.c.custom) == "高")
    with engine.connect() as conn:
        sql = str(q.compile(conn, compile_kwargs={"literal_binds": True}))
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(r) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
        else:
            conn.execute(text("SET enable_seqscan = off"))
            plan = " ".join(str(r) for r in conn.execute(text(f"EXPLAIN {sql}")))
    assert _index_name("ticket", "severity") in plan
    upgrade(engine)

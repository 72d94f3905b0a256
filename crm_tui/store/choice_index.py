"""Keeping `custom_choice` (the items of filterable multi-choice custom values) in step with
the entities' `custom` columns, in the database itself, on SQLite and PostgreSQL.

Triggers on customer, lead, opportunity and ticket (only while the entity has such a field:
a trigger slows every insert) rewrite a record's rows after an INSERT, an UPDATE of `custom`
or a DELETE: one row per text item of every field that
`field_definition` names as active, filterable, non-sensitive `multi_choice` (a single text
value counts as a one-item list). So no writer can forget it and it commits or rolls back
with the write. A definition change calls `refill` for its field in the same transaction.
Both backends store the same rows; `tests/test_formsdata_choices.py` compares them with the
JSON itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, text

TABLES = ("customer", "lead", "opportunity", "ticket")
_FIELD = ("d.entity = {e} AND d.type = 'multi_choice' AND d.filterable AND d.status = 'active' "
          "AND NOT d.sensitive")

# SQLite: json_each over the field's path yields the items of an array (or the value itself
# when it is a scalar); only text items are kept.
_SQLITE_ROWS = (
    "SELECT {e}, d.key, j.value, {rid} FROM {source}field_definition AS d, "
    "json_each({custom}, '$.\"' || d.key || '\"') AS j "
    "WHERE " + _FIELD + " AND j.type = 'text'")

# PostgreSQL: the same rows from the json column (a scalar wrapped in a one-item array).
_PG_ROWS = (
    "SELECT DISTINCT {e}, d.key, e.item #>> '{{}}', {rid} FROM {source}field_definition AS d "
    "CROSS JOIN LATERAL json_array_elements(CASE json_typeof({custom} -> d.key) "
    "WHEN 'array' THEN {custom} -> d.key ELSE json_build_array({custom} -> d.key) END) "
    "AS e(item) "
    "WHERE " + _FIELD + " AND json_typeof({custom} -> d.key) IN ('array', 'string') "
    "AND json_typeof(e.item) = 'string'")

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION custom_choice_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    DELETE FROM custom_choice WHERE entity = TG_TABLE_NAME AND record_id = OLD.id;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO custom_choice (entity, field_key, value, record_id)
    """ + _PG_ROWS.format(e="TG_TABLE_NAME", rid="NEW.id", custom="NEW.custom",
                    source="") + """
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END $$
"""


def _sqlite_triggers(table: str) -> list[str]:
    rows = _SQLITE_ROWS.format(e=f"'{table}'", rid="NEW.id", custom="NEW.custom", source="")
    insert = f"INSERT OR IGNORE INTO custom_choice (entity, field_key, value, record_id) {rows};"
    forget = f"DELETE FROM custom_choice WHERE entity = '{table}' AND record_id = OLD.id;"
    return [
        f'CREATE TRIGGER IF NOT EXISTS "custom_choice_{table}_insert" AFTER INSERT ON "{table}" '
        f"WHEN NEW.custom IS NOT NULL AND NEW.custom <> '{{}}' BEGIN {insert} END",
        f'CREATE TRIGGER IF NOT EXISTS "custom_choice_{table}_update" AFTER UPDATE OF custom '
        f'ON "{table}" WHEN OLD.custom IS NOT NEW.custom BEGIN {forget} {insert} END',
        f'CREATE TRIGGER IF NOT EXISTS "custom_choice_{table}_delete" AFTER DELETE ON "{table}" '
        f"WHEN OLD.custom IS NOT NULL AND OLD.custom <> '{{}}' BEGIN {forget} END",
    ]


def _pg_triggers(table: str) -> list[str]:
    out = []
    for event, when in (("INSERT", "WHEN (NEW.custom::text <> '{}')"),
                        ("UPDATE OF custom", "WHEN (OLD.custom::text IS DISTINCT FROM "
                                             "NEW.custom::text)"),
                        ("DELETE", "")):
        name = f"custom_choice_{table}_{event.split()[0].lower()}"
        out.append(f'DROP TRIGGER IF EXISTS "{name}" ON "{table}"')
        out.append(f'CREATE TRIGGER "{name}" AFTER {event} ON "{table}" FOR EACH ROW {when} '
                   "EXECUTE FUNCTION custom_choice_sync()")
    return out


def _qualifying(conn: Any, entity: str) -> bool:
    """Whether any field of `entity` has items to keep (active, filterable, non-sensitive
    multi-choice)."""
    return conn.execute(text("SELECT 1 FROM field_definition AS d WHERE "
                             + _FIELD.format(e=":entity")), {"entity": entity}).first() is not None


def sync_triggers(conn: Any, entity: str) -> None:
    """Triggers on `entity`'s table while it has a field to keep items of, none otherwise.

    A trigger costs every insert into its table even when its WHEN clause is false (SQLite
    runs a trigger program per row: a raw customer insert measured 33,000 -> 15,000 rows/s),
    so a table carries them only while they have something to do."""
    postgres = conn.dialect.name == "postgresql"
    if _qualifying(conn, entity):
        if postgres:
            conn.execute(text(_PG_FUNCTION))
        for sql in (_pg_triggers(entity) if postgres else _sqlite_triggers(entity)):
            conn.execute(text(sql))
    else:
        _drop_triggers(conn, entity, postgres)


def install(conn: Any) -> None:
    """The triggers of every entity table this database has, as its definitions need them
    (idempotent)."""
    names = set(inspect(conn).get_table_names())
    if "custom_choice" not in names or "field_definition" not in names:
        return
    for table in TABLES:
        if table in names:
            sync_triggers(conn, table)


def _drop_triggers(conn: Any, table: str, postgres: bool) -> None:
    for event in ("insert", "update", "delete"):
        name = f"custom_choice_{table}_{event}"
        if postgres:
            conn.execute(text(f'DROP TRIGGER IF EXISTS "{name}" ON "{table}"'))
        else:
            conn.execute(text(f'DROP TRIGGER IF EXISTS "{name}"'))


def uninstall(conn: Any) -> None:
    postgres = conn.dialect.name == "postgresql"
    names = set(inspect(conn).get_table_names())
    for table in TABLES:
        if table in names:
            _drop_triggers(conn, table, postgres)
    if postgres:
        conn.execute(text("DROP FUNCTION IF EXISTS custom_choice_sync()"))


def refill(conn: Any, entity: str, key: str) -> None:
    """Rewrite the rows of one field from the records' JSON (after its definition changed:
    made filterable, retired, re-added, its type changed); none unless it now qualifies.

    On PostgreSQL the entity's table is locked in SHARE mode first (as CREATE INDEX does):
    a writer that started under the old definition finishes before the rows are read, and
    one that starts later waits and then sees the new definition."""
    if entity not in TABLES or entity not in set(inspect(conn).get_table_names()):
        return
    sync_triggers(conn, entity)  # before the rows are read: later writes keep them
    params = {"entity": entity, "key": key}
    postgres = conn.dialect.name == "postgresql"
    qualifies = conn.execute(text(
        "SELECT 1 FROM field_definition AS d WHERE d.key = :key AND "
        + _FIELD.format(e=":entity")), params).first() is not None
    if qualifies and postgres:
        conn.execute(text(f'LOCK TABLE "{entity}" IN SHARE MODE'))
    conn.execute(text("DELETE FROM custom_choice WHERE entity = :entity AND field_key = :key"),
                 params)
    if not qualifies:
        return  # rows a writer under the old definition adds later are never read
    if postgres:
        rows = _PG_ROWS.format(e=":entity", rid="t.id", custom="t.custom",
                               source=f'"{entity}" AS t CROSS JOIN ')
        sql = (f"INSERT INTO custom_choice (entity, field_key, value, record_id) {rows} "
               "AND d.key = :key ON CONFLICT DO NOTHING")
    else:
        rows = _SQLITE_ROWS.format(e=":entity", rid="t.id", custom="t.custom",
                                   source=f'"{entity}" AS t, ')
        sql = (f"INSERT OR IGNORE INTO custom_choice (entity, field_key, value, record_id) "
               f"{rows} AND d.key = :key")
    conn.execute(text(sql), params)

"""Filterable multi-choice fields read an index (`custom_choice`, migration 0020): every way a
custom value is written keeps it, on SQLite and PostgreSQL; a definition change refills it;
the filter's answers equal the unindexed filter's; the plans read the index."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, inspect, select, text, update

from crm_tui.domain.forms import definitions as D
from crm_tui.domain.forms.filters import clause, parse_filters, scan_clause
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.sales import custom_values as SC
from crm_tui.domain.sales import leads
from crm_tui.store.migrate import alembic_config, upgrade
from crm_tui.store.models import Customer
from crm_tui.store.models_forms import CustomChoice
from crm_tui.store.models_sales import Lead
from crm_tui.store.types import utcnow
from tests.helpers import make_customer
from tests.test_form_values_migration import engine  # noqa: F401  (an old schema, both backends)

ADMIN = system_actor("test")
CHOICES = ["理财", "贷款", "保险", "外汇"]


def _field(crm, entity: str = "lead", **kw) -> None:
    D.add_field(crm, ADMIN, entity, "topics", type="multi_choice", label_zh="关注业务",
                label_en="Topics", choices=CHOICES, filterable=True, **kw)


def _indexed(crm, entity: str = "lead") -> set[tuple[str, str, int]]:
    c = CustomChoice.__table__.c
    with crm.db.read() as s:
        return {tuple(r) for r in s.execute(select(c.field_key, c.value, c.record_id)
                                            .where(c.entity == entity))}


def _from_json(crm, model, entity: str = "lead") -> set[tuple[str, str, int]]:
    with crm.db.read() as s:
        rows = s.execute(select(model.id, model.custom)).all()
    return {("topics", v, rid) for rid, custom in rows
            for v in ((custom or {}).get("topics") or [])}


def test_every_write_keeps_the_index(crm, world) -> None:
    _field(crm)
    rm1 = world["rm1"]
    a = leads.create_lead(crm, rm1, {"name": "甲", "source": "web",
                                     "custom": {"topics": "理财,贷款"}})
    b = leads.create_lead(crm, rm1, {"name": "乙", "source": "web",
                                     "custom": {"topics": ["保险"]}})
    leads.create_lead(crm, rm1, {"name": "丙", "source": "web"})
    assert _indexed(crm) == {("topics", "理财", a), ("topics", "贷款", a), ("topics", "保险", b)}
    # a form save (the optimistic-lock UPDATE) replaces the record's items
    head = world["bh1"]  # the branch's leads, whoever the rules gave them to
    view = SC.lead_custom_view(crm, head, a)
    SC.update_lead_custom(crm, head, a, view.version, {"topics": ["外汇"]})
    assert _indexed(crm) == {("topics", "外汇", a), ("topics", "保险", b)}
    # raw SQL (an import's bulk path, an anonymisation's blanking) and a delete
    with crm.db.write() as s:
        s.execute(update(Lead).where(Lead.id == b).values(custom={}))
        s.execute(insert(Lead).values(source="web", name="丁", custom={"topics": ["理财"]},
                                      first_contact_due=utcnow()))
    assert _indexed(crm) == _from_json(crm, Lead) and len(_indexed(crm)) == 2
    with crm.db.write() as s:
        s.execute(delete(Lead).where(Lead.id == a))
    assert _indexed(crm) == _from_json(crm, Lead) and len(_indexed(crm)) == 1
    # a rolled-back write leaves no row behind
    with pytest.raises(RuntimeError), crm.db.write() as s:
        s.execute(update(Lead).values(custom={"topics": ["贷款"]}))
        raise RuntimeError
    assert _indexed(crm) == _from_json(crm, Lead)


def test_definition_changes_refill_the_index(crm, world) -> None:
    _field(crm, "customer")
    cid = make_customer(crm, world["rm1"], "周晓梅")
    with crm.db.write() as s:
        s.execute(update(Customer).where(Customer.id == cid)
                  .values(custom={"topics": ["理财", "保险"]}))
    full = {("topics", "理财", cid), ("topics", "保险", cid)}
    assert _indexed(crm, "customer") == full
    D.edit_field(crm, ADMIN, "customer", "topics", filterable=False)
    assert _indexed(crm, "customer") == set()  # not filterable: nothing to keep
    D.edit_field(crm, ADMIN, "customer", "topics", filterable=True)
    assert _indexed(crm, "customer") == full
    D.retire_field(crm, ADMIN, "customer", "topics")
    assert _indexed(crm, "customer") == set()
    with crm.db.write() as s:  # written while retired: not indexed, but kept in the JSON
        s.execute(update(Customer).where(Customer.id == cid).values(custom={"topics": ["外汇"]}))
    assert _indexed(crm, "customer") == set()
    _field(crm, "customer")  # re-added: read again from the JSON
    assert _indexed(crm, "customer") == {("topics", "外汇", cid)}
    D.edit_field(crm, ADMIN, "customer", "topics", type="text", choices=[])
    assert _indexed(crm, "customer") == set()  # no longer a multi-choice field
    # and the customer search's key=value words use it
    D.edit_field(crm, ADMIN, "customer", "topics", type="multi_choice", choices=CHOICES)
    assert _indexed(crm, "customer") == {("topics", "外汇", cid)}


@pytest.fixture
def six_leads(crm, world) -> list[int]:
    _field(crm)
    return [leads.create_lead(crm, world["rm1"], {"name": f"线索{i}", "source": "web"})
            for i in range(6)]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.sampled_from(CHOICES), unique=True), min_size=6, max_size=6))
def test_indexed_filter_equals_the_scan(crm, world, six_leads, values) -> None:
    with crm.db.write() as s:
        for rid, items in zip(six_leads, values, strict=True):
            s.execute(update(Lead).where(Lead.id == rid).values(custom={"topics": items}))
    for choice in CHOICES:
        (f,) = parse_filters(crm, "lead", {"topics": choice})
        expected = {rid for rid, items in zip(six_leads, values, strict=True) if choice in items}
        with crm.db.read() as s:
            scan = set(s.scalars(select(Lead.id).where(scan_clause(f, Lead.custom))))
            for shape in (replace(f, rare=True), replace(f, rare=False)):  # both SQL shapes
                assert set(s.scalars(select(Lead.id).where(clause(shape, Lead.custom)))) \
                    == scan == expected
        listed = {v.id for v in leads.list_leads(crm, world["bh1"], custom=(f,))}
        assert listed == expected


def _bulk(crm, n: int, rare_every: int) -> None:
    due = utcnow()
    rows = [{"source": "web", "name": f"n{i}", "first_contact_due": due,
             "custom": {"topics": ["外汇"] if i % rare_every == 0 else ["理财", "贷款"]}}
            for i in range(n)]
    with crm.db.write() as s:
        s.execute(insert(Lead), rows)
        s.execute(text("ANALYZE"))


def _plan(crm, f) -> str:
    q = select(Lead.id).where(clause(f, Lead.custom)).order_by(Lead.id.desc()).limit(50)
    with crm.db.read() as s:
        sql = str(q.compile(s.get_bind(), compile_kwargs={"literal_binds": True}))
        explain = "EXPLAIN QUERY PLAN " if crm.db.is_sqlite else "EXPLAIN "
        return " | ".join(str(r[-1]) for r in s.execute(text(explain + sql)))


def test_the_filter_reads_the_index(crm, world) -> None:
    _field(crm)
    _bulk(crm, 4000, rare_every=400)
    (rare,) = parse_filters(crm, "lead", {"topics": "外汇"})
    (common,) = parse_filters(crm, "lead", {"topics": "理财"})
    assert rare.rare and not common.rare
    if crm.db.is_sqlite:
        rare_plan = _plan(crm, rare)
        assert "SEARCH custom_choice USING COVERING INDEX sqlite_autoindex_custom_choice_1 " \
               "(entity=? AND field_key=? AND value=?)" in rare_plan, rare_plan
        common_plan = _plan(crm, common)
        assert "(entity=? AND field_key=? AND value=? AND record_id=?)" in common_plan, common_plan
        assert "SCAN custom_choice" not in rare_plan + common_plan
    else:
        rare_plan = _plan(crm, rare)
        assert "custom_choice_pkey" in rare_plan, rare_plan
        assert "Seq Scan on custom_choice" not in rare_plan
    with crm.db.read() as s:
        assert len(s.scalars(select(Lead.id).where(clause(rare, Lead.custom))).all()) == 10


def test_0020_fills_the_index_from_stored_values(engine) -> None:  # noqa: F811
    upgrade(engine, "0019")
    with engine.begin() as conn:
        for key, filterable in (("topics", "true"), ("other", "false")):
            conn.execute(text(
                "INSERT INTO field_definition (entity, key, type, label_zh, label_en, required, "
                "choices, help_zh, help_en, section, position, sensitive, filterable, status, "
                "version, created_at, updated_at) VALUES ('ticket', :key, 'multi_choice', '关注', "
                "'Topics', false, '[\"理财\", \"贷款\"]', '', '', 'custom', 0, false, "
                f"{filterable}, 'active', 1, '2026-12-01 00:00:00+00:00', "
                "'2026-12-01 00:00:00+00:00')"), {"key": key})
        conn.execute(text("INSERT INTO branch (code, name, region) VALUES ('BJ01', '北京', '华北')"))
        conn.execute(text(
            "INSERT INTO customer (kind, name, name_pinyin, name_initials, id_type, email, gender, "
            "address, occupation, annual_income_fen, goals, aum_fen, branch_id, status, "
            "created_at, updated_at, version, custom, restricted) VALUES ('individual', '张三', "
            "'', '', 'resident_id', '', '', '', '', 0, '', 0, 1, 'active', "
            "'2026-12-01 00:00:00+00:00', '2026-12-01 00:00:00+00:00', 1, '{}', false)"))
        for custom in ({"topics": ["理财", "贷款"], "other": ["理财"]}, {"topics": ["贷款"]}, {}):
            conn.execute(text(
                "INSERT INTO ticket (customer_id, branch_id, type, priority, state, queue, "
                "subject, description, channel, created_at, first_response_due, resolution_due, "
                "resolution_note, breached, reopened, version, custom) VALUES (1, 1, 'inquiry', "
                "'normal', 'new', 'general', 's', '', 'phone', '2026-12-01 00:00:00+00:00', "
                "'2026-12-02 00:00:00+00:00', '2026-12-03 00:00:00+00:00', '', false, 0, 1, "
                ":custom)"), {"custom": json.dumps(custom, ensure_ascii=False)})
        conn.execute(text('CREATE INDEX "ix_ticket_cf_topics" ON ticket (id)'))  # as 0019 made
    upgrade(engine, "0020")
    assert "ix_ticket_cf_topics" not in {i["name"] for i in inspect(engine).get_indexes("ticket")}
    with engine.begin() as conn:
        got = set(conn.execute(text("SELECT field_key, value, record_id FROM custom_choice")))
        assert got == {("topics", "理财", 1), ("topics", "贷款", 1), ("topics", "贷款", 2)}
        conn.execute(text("UPDATE ticket SET custom = :c WHERE id = 2"),
                     {"c": json.dumps({"topics": ["理财"]}, ensure_ascii=False)})
        got = set(conn.execute(text("SELECT field_key, value, record_id FROM custom_choice "
                                    "WHERE record_id = 2")))
        assert got == {("topics", "理财", 2)}  # the triggers run on an upgraded database
    command.downgrade(alembic_config(engine), "0019")  # table and triggers go away
    with engine.begin() as conn:
        conn.execute(text("UPDATE ticket SET custom = '{}' WHERE id = 1"))
    upgrade(engine)


def _triggers(crm, table: str) -> set[str]:
    with crm.db.read() as s:
        if crm.db.is_sqlite:
            rows = s.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                  "AND tbl_name = :t"), {"t": table})
        else:
            rows = s.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                                  "AND tgrelid = CAST(:t AS regclass)"), {"t": table})
        return {r[0] for r in rows}


def test_a_table_carries_triggers_only_while_it_has_a_field_to_index(crm, world) -> None:
    """A trigger slows every insert into its table, so none until a field needs it."""
    assert _triggers(crm, "customer") == set() and _triggers(crm, "lead") == set()
    D.add_field(crm, ADMIN, "customer", "tier", type="text", label_zh="等级", label_en="Tier",
                filterable=True)
    assert _triggers(crm, "customer") == set()  # a text field has an expression index
    _field(crm, "customer")
    assert _triggers(crm, "customer") == {f"custom_choice_customer_{e}"
                                          for e in ("insert", "update", "delete")}
    assert _triggers(crm, "lead") == set()
    D.retire_field(crm, ADMIN, "customer", "topics")
    assert _triggers(crm, "customer") == set()
    assert _indexed(crm, "customer") == set()

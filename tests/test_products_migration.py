"""Migration 0011 moves today's holdings to units at a price of 1 in CNY: a 0010 database's
AUM figures are the same after the upgrade, valued by the new SQL; and downgrade works."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import create_engine, inspect, text

from crm_tui.domain.products.valuation import customer_values
from crm_tui.store.migrate import upgrade


@pytest.fixture(params=["sqlite", "pg"])
def engine(request, tmp_path):
    if request.param == "pg":
        url = request.getfixturevalue("pg_schema_url")
    else:
        url = f"sqlite:///{tmp_path / 'old.db'}"
    eng = create_engine(url)
    yield eng
    eng.dispose()


def test_holdings_become_units_at_par_and_keep_their_figures(engine):
    upgrade(engine, "0010")
    now = "2026-11-30 08:00:00"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO branch (id, code, name, region) VALUES (1, 'BJ01', '北京', '华北')"))
        for cid, aum in ((1, 12_345_67), (2, 500_000_00)):
            conn.execute(text(
                "INSERT INTO customer (id, kind, name, name_pinyin, name_initials, id_type, email, "
                "gender, address, occupation, annual_income_fen, goals, aum_fen, branch_id, status, "
                "created_at, updated_at, version) VALUES (:id, 'individual', '客户', '', '', "
                "'resident_id', '', '', '', '', 0, '', :aum, 1, 'active', :now, :now, 1)"),
                {"id": cid, "aum": aum, "now": now})
        conn.execute(text("INSERT INTO product (id, code, name, category, risk_level, currency, active) "
                          "VALUES (1, 'WM1', '理财', 'wealth', 'R2', 'CNY', true), "
                          "(2, 'DP1', '定期', 'deposit', 'R1', 'CNY', true)"))
        conn.execute(text("INSERT INTO holding (customer_id, product_id, amount_fen, updated_at) "
                          "VALUES (1, 1, 1234500, :now), (1, 2, 67, :now), (2, 2, 50000000, :now)"),
                     {"now": now})
    upgrade(engine, "0011")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT customer_id, product_id, units_e4, amount_fen, currency "
                                 "FROM holding ORDER BY customer_id, product_id")).all()
        assert [tuple(r) for r in rows] == [(1, 1, 123_450_000, 1_234_500, "CNY"),
                                            (1, 2, 6_700, 67, "CNY"),
                                            (2, 2, 5_000_000_000, 50_000_000, "CNY")]
        values = {cid: int(v) for cid, v in conn.execute(customer_values(date(2026, 12, 1)))}
        aum = dict(conn.execute(text("SELECT id, aum_fen FROM customer")).all())
        asset = dict(conn.execute(text("SELECT code, asset_class FROM product")).all())
    assert values == aum == {1: 1_234_567, 2: 50_000_000}
    assert asset == {"WM1": "fixed_income", "DP1": "cash"}
    upgrade(engine)
    from alembic import command

    from crm_tui.store.migrate import alembic_config

    command.downgrade(alembic_config(engine), "0010")
    assert "units_e4" not in {c["name"] for c in inspect(engine).get_columns("holding")}
    assert "product_price" not in inspect(engine).get_table_names()

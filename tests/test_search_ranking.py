"""Issue 8: within a match rank, the searcher's own customers first, then the most recently
contacted; the last contact is kept on the customer as interactions are logged; migration
0018 fills it in from the interactions already there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from crm_tui.domain.customers import interactions, search
from crm_tui.domain.customers.interactions import NewInteraction
from crm_tui.store.migrate import upgrade
from crm_tui.store.models import Customer
from tests.helpers import make_customer, set_column

NOW = datetime.now(UTC).replace(microsecond=0)


def _contact(crm, actor, cid: int, days_ago: int) -> None:
    interactions.log_interaction(crm, actor, cid, NewInteraction(
        channel="phone", subject="回访", occurred_at=NOW - timedelta(days=days_ago)))


def _last_contact(crm, cid: int) -> datetime | None:
    with crm.db.read() as s:
        return s.get(Customer, cid).last_contact_at


def test_logging_an_interaction_moves_the_last_contact_forward_only(crm, world) -> None:
    rm1 = world["rm1"]
    cid = make_customer(crm, rm1, "张三")
    assert _last_contact(crm, cid) is None
    _contact(crm, rm1, cid, 2)
    assert _last_contact(crm, cid) == NOW - timedelta(days=2)
    _contact(crm, rm1, cid, 9)  # an older visit written up late
    assert _last_contact(crm, cid) == NOW - timedelta(days=2)


def test_own_customers_first_then_recent_contact(crm, world) -> None:
    """sup1 sees her team; her own customer leads the rank, then the contacted ones, most
    recent first; those never contacted come last (newest first). Paging keeps that order."""
    sup1, rm1, rm2 = world["sup1"], world["rm1"], world["rm2"]
    old = make_customer(crm, rm1, "张一")
    recent = make_customer(crm, rm2, "张二")
    never = make_customer(crm, rm1, "张三")
    mine = make_customer(crm, rm1, "张四")
    set_column(crm, mine, rm_id=sup1.id)  # a supervisor keeps a few customers herself
    newest = make_customer(crm, rm2, "张五")
    _contact(crm, rm1, old, 30)
    _contact(crm, rm2, recent, 1)
    ranked = [mine, recent, old, newest, never]
    assert [h.id for h in search.search_customers(crm, sup1, "张")] == ranked
    pages, after = [], None
    while True:
        page = search.search_customers(crm, sup1, "张", limit=2, after=after)
        if not page:
            break
        pages += [h.id for h in page]
        after = (page[-1].sort_key, page[-1].id)
    assert pages == ranked
    # a branch head owns no book: recency alone
    assert [h.id for h in search.search_customers(crm, world["bh1"], "张")] == [
        recent, old, newest, mine, never]


def test_rank_still_comes_before_ownership_and_contact(crm, world) -> None:
    """A recently contacted 周淑兰 (longer initials) stays below an uncontacted 张三 (exact)."""
    rm1 = world["rm1"]
    exact = make_customer(crm, rm1, "张三")
    longer = make_customer(crm, rm1, "周淑兰")
    _contact(crm, rm1, longer, 0)
    for user in ("rm1", "bh1", "comp1"):
        assert [h.id for h in search.search_customers(crm, world[user], "zs")] == [
            exact, longer], user


def test_whole_bank_search_ranks_by_recent_contact_and_pages(crm, world) -> None:
    comp = world["comp1"]
    ids = [make_customer(crm, world[rm], "赵四") for rm in ("rm1", "rm_sh", "rm3", "rm1")]
    set_column(crm, ids[0], last_contact_at=NOW - timedelta(days=5))
    set_column(crm, ids[2], last_contact_at=NOW - timedelta(days=1))
    ranked = [ids[2], ids[0], ids[3], ids[1]]
    for q in ("zs", "赵四", "zhaosi"):
        seen, after = [], None
        for _ in range(5):
            page = search.search_customers(crm, comp, q, limit=1, after=after)
            if not page:
                break
            seen.append(page[0].id)
            after = (page[0].sort_key, page[0].id)
        assert seen == ranked, q


@pytest.fixture(params=["sqlite", "pg"])
def engine(request, tmp_path):
    url = (request.getfixturevalue("pg_schema_url") if request.param == "pg"
           else f"sqlite:///{tmp_path / 'old.db'}")
    eng = create_engine(url)
    yield eng
    eng.dispose()


def test_migration_fills_the_last_contact_from_interactions(engine) -> None:
    upgrade(engine, "0017")
    with engine.begin() as conn:
        for cid in (1, 2):
            conn.execute(text(
                "INSERT INTO customer (id, kind, name, name_pinyin, name_initials, id_type, email, "
                "gender, address, occupation, annual_income_fen, goals, aum_fen, status, "
                "restricted, created_at, updated_at, version, custom) VALUES (:id, 'individual', "
                "'客户', '', '', 'resident_id', '', '', '', '', 0, '', 0, 'active', false, "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00', 1, '{}')"), {"id": cid})
        for when in ("2026-03-01 08:00:00", "2026-05-01 08:00:00"):
            conn.execute(text(
                "INSERT INTO interaction (customer_id, channel, occurred_at, subject, summary, "
                "next_action, created_at) VALUES (1, 'phone', :t, 's', '', '', :t)"), {"t": when})
    upgrade(engine, "0018")
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT id, last_contact_at FROM customer")).all())
    assert str(rows[1]).startswith("2026-05-01 08:00:00") and rows[2] is None

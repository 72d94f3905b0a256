"""Multi-product proposals: an opportunity's product lines, each checked against
suitability (a blocked line refused with its reason, nothing saved), rendered into the
proposal and the contract with each product's amount, fee, expected range and risk
disclosure; closing subscribes every line through the transaction path, and a deal
split into lines still meets the large-amount chain its total reaches. Migration 0017
gives existing single-product opportunities their one line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, inspect, select, text

from crm_tui.domain.compliance import approvals
from crm_tui.domain.kernel.errors import Blocked, ValidationFailed
from crm_tui.domain.sales import opportunities, proposals
from crm_tui.domain.sales.lines import set_lines
from crm_tui.domain.sales.questionnaires import submit_needs
from crm_tui.store.migrate import upgrade
from crm_tui.store.models import Holding, Trade
from crm_tui.store.models_compliance import ApprovalRequest
from crm_tui.store.models_sales import Opportunity, OpportunityLine
from tests.sales_support import T0
from tests.test_sales_pipeline import NEEDS, deal  # noqa: F401 (the fixture)


def _opp(crm, oid) -> Opportunity:
    with crm.db.read() as s:
        return s.get(Opportunity, oid)


def _lines(crm, oid) -> list[tuple[int, int, int]]:
    with crm.db.read() as s:
        return [(x.position, x.product_id, x.amount_fen) for x in s.scalars(
            select(OpportunityLine).where(OpportunityLine.opportunity_id == oid)
            .order_by(OpportunityLine.position))]


def _to_matching(crm, world, oid, cid) -> None:
    submit_needs(crm, world["rm1"], cid, NEEDS, now=T0)
    opportunities.move(crm, world["rm1"], oid, "matching", now=T0)


def test_two_lines_render_in_the_proposal_with_each_disclosure(crm, world, deal):  # noqa: F811
    cid, oid = deal
    _to_matching(crm, world, oid, cid)
    set_lines(crm, world["rm1"], oid, [("WM-R2", "150000"), ("long", "20000")], now=T0)
    opp = _opp(crm, oid)
    assert opp.amount_fen == 17_000_000
    assert [(p, fen) for p, _, fen in _lines(crm, oid)] == [(1, 15_000_000), (2, 2_000_000)]
    assert opp.product_id == _lines(crm, oid)[0][1]
    opportunities.move(crm, world["rm1"], oid, "proposal", now=T0)
    proposals.make_proposal(crm, world["rm1"], oid, now=T0)
    [view] = proposals.proposals_of(crm, world["rm1"], oid)
    for doc in (view.markdown, view.html):
        assert "WM-R2 风险揭示" in doc and "LONG 风险揭示" in doc
        assert "150,000.00 CNY" in doc and "20,000.00 CNY" in doc
    assert "0.30%" in view.markdown and "2.80% ~ 3.50%" in view.markdown  # WM-R2's fee, range
    assert view.html.count("<tr>") == 3  # the header and two product rows


def test_a_blocked_line_is_refused_with_its_reason_and_nothing_is_saved(crm, world, deal):  # noqa: F811
    cid, oid = deal
    _to_matching(crm, world, oid, cid)
    opportunities.choose_product(crm, world["rm1"], oid, "WM-R2", "100000")
    with pytest.raises(Blocked) as exc:  # EQ-R5 is R5: a C3 customer may not buy it
        set_lines(crm, world["rm1"], oid, [("WM-R2", "100000"), ("EQ-R5", "50000")], now=T0)
    assert exc.value.key == "sales.lines.blocked" and exc.value.params["line"] == 2
    assert exc.value.message == ("Line 2 (EQ-R5): Not suitable: a C3 customer may not buy an R5 "
                                 "product.")
    with pytest.raises(ValidationFailed) as bad:  # below WM-R2's minimum, on line 1
        set_lines(crm, world["rm1"], oid, [("WM-R2", "50"), ("LONG", "50000")], now=T0)
    assert [(e.field, e.params["line"]) for e in bad.value.errors] == [("amount", 1)]
    assert [(p, fen) for p, _, fen in _lines(crm, oid)] == [(1, 10_000_000)]
    assert _opp(crm, oid).amount_fen == 10_000_000


def test_closing_subscribes_every_line_and_the_total_meets_its_chain(crm, world, deal):  # noqa: F811
    cid, oid = deal
    _to_matching(crm, world, oid, cid)
    # each line is 1,500,000 (one level), the deal 3,000,000 (supervisor and branch head)
    set_lines(crm, world["rm1"], oid, [("WM-R2", "1500000"), ("LONG", "1500000")], now=T0)
    opportunities.move(crm, world["rm1"], oid, "proposal", now=T0)
    proposals.make_proposal(crm, world["rm1"], oid, now=T0)
    opportunities.move(crm, world["rm1"], oid, "closing", now=T0)
    rid = _opp(crm, oid).close_request_id
    with crm.db.read() as s:
        req = s.get(ApprovalRequest, rid)
        assert [lv["role"] for lv in req.levels] == ["compliance", "supervisor", "branch_head"]
    assert "WM-R2" in _opp(crm, oid).contract_text and "LONG" in _opp(crm, oid).contract_text
    approvals.approve(crm, world["comp1"], rid, "合规")
    approvals.approve(crm, world["sup1"], rid, "ok")
    assert _opp(crm, oid).stage == "closing"  # not won before the branch head's level
    approvals.approve(crm, world["bh1"], rid, "ok")
    opp = _opp(crm, oid)
    assert opp.stage == "won"
    refs = opp.result_ref.split(",")
    assert len(refs) == 2 and all(r.startswith("request:") for r in refs)  # each line's chain
    for ref in refs:
        approvals.approve(crm, world["sup1"], int(ref.split(":")[1]), "ok")
    with crm.db.read() as s:
        assert sorted(s.scalars(select(Trade.amount_fen).where(Trade.customer_id == cid))) == [
            150_000_000, 150_000_000]
        assert s.scalar(select(Holding.id).where(Holding.customer_id == cid)) is not None


def test_small_lines_close_without_a_large_amount_level(crm, world, deal):  # noqa: F811
    cid, oid = deal
    _to_matching(crm, world, oid, cid)
    set_lines(crm, world["rm1"], oid, [("WM-R2", "100000"), ("LONG", "100000")], now=T0)
    opportunities.move(crm, world["rm1"], oid, "proposal", now=T0)
    proposals.make_proposal(crm, world["rm1"], oid, now=T0)
    opportunities.move(crm, world["rm1"], oid, "closing", now=T0)
    rid = _opp(crm, oid).close_request_id
    approvals.approve(crm, world["comp1"], rid, "合规")
    opp = _opp(crm, oid)
    assert opp.stage == "won" and [r.split(":")[0] for r in opp.result_ref.split(",")] == [
        "trade", "trade"]
    with crm.db.read() as s:
        assert s.scalar(select(Holding.amount_fen).where(Holding.customer_id == cid)) == 10_000_000


def _fill(engine, table: str, values: dict) -> None:
    """Insert a row giving every NOT NULL column without a default a plain value."""
    row = dict(values)
    for col in inspect(engine).get_columns(table):
        if col["name"] in row or col["nullable"] or col.get("default") is not None:
            continue
        if col["name"] == "id" or col.get("autoincrement") is True:
            continue
        kind = str(col["type"]).upper()
        row[col["name"]] = (datetime(2025, 1, 1, tzinfo=UTC).isoformat() if "DATE" in kind or "TIME" in kind
                            else False if "BOOL" in kind
                            else 0 if "INT" in kind or "NUMERIC" in kind else "x")
    names = ", ".join(row)
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {table} ({names}) VALUES ({', '.join(':' + n for n in row)})"),
                     row)


@pytest.fixture(params=["sqlite", "pg"])
def engine(request, tmp_path):
    url = (request.getfixturevalue("pg_schema_url") if request.param == "pg"
           else f"sqlite:///{tmp_path / 'old.db'}")
    eng = create_engine(url)
    yield eng
    eng.dispose()


def test_migration_0017_gives_existing_opportunities_their_one_line(engine):
    upgrade(engine, "0016")
    _fill(engine, "branch", {"id": 1, "code": "BJ01", "name": "北京", "region": "华北"})
    _fill(engine, "staff", {"id": 1, "username": "rm1", "role": "rm", "branch_id": 1})
    _fill(engine, "customer", {"id": 1, "name": "王建国", "branch_id": 1, "rm_id": 1})
    _fill(engine, "product", {"id": 1, "code": "WM-R2", "name": "稳健", "risk_level": "R2"})
    for oid, product, fen in ((1, 1, 10_000_000), (2, None, 0)):
        _fill(engine, "opportunity", {"id": oid, "customer_id": 1, "owner_id": 1, "branch_id": 1,
                                      "stage": "proposal", "product_id": product,
                                      "amount_fen": fen})
    upgrade(engine, "0017")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT opportunity_id, position, product_id, amount_fen "
                                 "FROM opportunity_line")).all()
    assert [tuple(r) for r in rows] == [(1, 1, 1, 10_000_000)]
    upgrade(engine)

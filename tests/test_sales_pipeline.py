"""Opportunities: every transition allowed and refused (with its reason), matching against
suitability, proposals, closing through the approval engine (compliance, then the
transaction path with its large-amount chain), lost reasons, the stage history."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm_tui.domain.compliance import approvals
from crm_tui.domain.kernel.errors import Blocked, ValidationFailed
from crm_tui.domain.sales import board, conversion, leads, matching, opportunities, proposals
from crm_tui.domain.sales.questionnaires import submit_needs, submit_risk
from crm_tui.store.models import Customer, Holding, Trade
from crm_tui.store.models_compliance import ApprovalRequest
from crm_tui.store.models_sales import Opportunity, OpportunityStageEvent
from crm_tui.store.models_workflow import Task
from tests.compliance_world import add_customer
from tests.sales_support import T0, add_product

NEEDS = {"goals": "growth,retirement", "horizon": "3to5y", "liquidity": "medium",
         "investable_funds": "3000000", "existing_portfolio": "定期存款"}


@pytest.fixture
def deal(crm, world):
    """A C3 customer of rm1 with complete KYC, an opportunity in needs, three products."""
    cid = add_customer(crm, world, "rm1", "王建国", level="C3")
    add_product(crm, "WM-R2", "R2", min_amount_fen=1_000_000, term_days=180,
                expected_return_low_bp=280, expected_return_high_bp=350, fee_rate_bp=30)
    add_product(crm, "WM-R4", "R4", term_days=365)
    add_product(crm, "EQ-R5", "R5")
    add_product(crm, "LONG", "R1", term_days=3650, early_redeemable=False)
    oid = opportunities.create_opportunity(crm, world["rm1"], cid, now=T0)
    return cid, oid


def _opp(crm, oid) -> Opportunity:
    with crm.db.read() as s:
        return s.get(Opportunity, oid)


def _refused(crm, actor, oid, stage, key, **kw):
    with pytest.raises(Blocked) as exc:
        opportunities.move(crm, actor, oid, stage, **kw)
    assert exc.value.key == key, exc.value.message
    return exc.value


def _to_proposal(crm, world, oid, cid, code="WM-R2", amount="100000"):
    submit_needs(crm, world["rm1"], cid, NEEDS, now=T0)
    opportunities.move(crm, world["rm1"], oid, "matching", now=T0)
    opportunities.choose_product(crm, world["rm1"], oid, code, amount)
    opportunities.move(crm, world["rm1"], oid, "proposal", now=T0)


def test_every_transition_refused_then_allowed(crm, world, deal):
    cid, oid = deal
    rm = world["rm1"]
    e = _refused(crm, rm, oid, "matching", "sales.move.needs_missing")
    assert e.message == "Needs questionnaire not completed."
    _refused(crm, rm, oid, "proposal", "sales.move.not_allowed")
    _refused(crm, rm, oid, "won", "sales.move.not_allowed")
    submit_needs(crm, rm, cid, NEEDS, now=T0)
    assert opportunities.move(crm, rm, oid, "matching", now=T0) == "matching"
    _refused(crm, rm, oid, "proposal", "sales.move.product_missing")
    opportunities.choose_product(crm, rm, oid, "EQ-R5", "100000")
    _refused(crm, rm, oid, "proposal", "compliance.suitability.blocked")
    assert opportunities.move(crm, rm, oid, "needs", now=T0) == "needs"  # back is allowed
    opportunities.move(crm, rm, oid, "matching", now=T0)
    opportunities.choose_product(crm, rm, oid, "WM-R2", "100000")
    assert opportunities.move(crm, rm, oid, "proposal", now=T0) == "proposal"
    _refused(crm, rm, oid, "closing", "sales.move.proposal_missing")
    _refused(crm, rm, oid, "won", "sales.move.not_allowed")
    proposals.make_proposal(crm, rm, oid, now=T0)
    assert opportunities.move(crm, rm, oid, "closing", now=T0) == "closing"
    _refused(crm, rm, oid, "won", "sales.move.won_by_approval")
    _refused(crm, rm, oid, "proposal", "sales.move.closing_pending")
    _refused(crm, rm, oid, "lost", "sales.move.closing_pending")
    with crm.db.read() as s:
        events = s.execute(select(OpportunityStageEvent.from_stage, OpportunityStageEvent.to_stage)
                           .where(OpportunityStageEvent.opportunity_id == oid)
                           .order_by(OpportunityStageEvent.id)).all()
    assert [tuple(e) for e in events] == [(None, "needs"), ("needs", "matching"),
                                          ("matching", "needs"), ("needs", "matching"),
                                          ("matching", "proposal"), ("proposal", "closing")]


def test_kyc_incomplete_refuses_closing(crm, world):
    cid = add_customer(crm, world, "rm1", "赵六", level="C3", kyc=False)
    add_product(crm, "WM-R1", "R1")
    oid = opportunities.create_opportunity(crm, world["rm1"], cid, now=T0)
    submit_needs(crm, world["rm1"], cid, NEEDS, now=T0)
    opportunities.move(crm, world["rm1"], oid, "matching", now=T0)
    opportunities.choose_product(crm, world["rm1"], oid, "WM-R1", "1000")
    # suitability already blocks the proposal without KYC
    e = _refused(crm, world["rm1"], oid, "proposal", "compliance.suitability.kyc_incomplete")
    assert "proof" in e.message.lower()


def test_lost_needs_a_reason_from_the_policy(crm, world, deal):
    _cid, oid = deal
    with pytest.raises(ValidationFailed):
        opportunities.move(crm, world["rm1"], oid, "lost", reason="bored")
    opportunities.move(crm, world["rm1"], oid, "lost", reason="competitor")
    assert _opp(crm, oid).lost_reason == "competitor" and _opp(crm, oid).closed_at
    _refused(crm, world["rm1"], oid, "needs", "sales.move.not_allowed")


def test_product_minimum_and_step(crm, world, deal):
    cid, oid = deal
    submit_needs(crm, world["rm1"], cid, NEEDS, now=T0)
    opportunities.move(crm, world["rm1"], oid, "matching", now=T0)
    with pytest.raises(ValidationFailed) as exc:
        opportunities.choose_product(crm, world["rm1"], oid, "WM-R2", "9999.99")
    assert "minimum" in exc.value.message


def test_matching_respects_suitability_horizon_and_liquidity(crm, world, deal):
    cid, oid = deal
    submit_needs(crm, world["rm1"], cid, NEEDS, now=T0)
    got = {m.code: m for m in matching.match_products(crm, world["rm1"], oid, now=T0)}
    assert got["WM-R2"].fits and not got["WM-R2"].blocked
    assert got["WM-R4"].fits and got["WM-R4"].needs_override  # C3 × R4: compliance override
    assert got["EQ-R5"].blocked and not got["EQ-R5"].fits
    assert got["EQ-R5"].reason_key == "compliance.suitability.blocked"
    assert not got["LONG"].fits and got["LONG"].reason_key == "sales.match.term_too_long"
    order = [m.code for m in matching.match_products(crm, world["rm1"], oid, now=T0)]
    assert order.index("WM-R2") < order.index("WM-R4") < order.index("EQ-R5")


def test_proposal_renders_markdown_and_html_with_disclosure_and_feedback(crm, world, deal):
    cid, oid = deal
    _to_proposal(crm, world, oid, cid)
    pid = proposals.make_proposal(crm, world["rm1"], oid, now=T0)
    proposals.record_feedback(crm, world["rm1"], pid, "positive", "客户认可收益区间")
    [view] = proposals.proposals_of(crm, world["rm1"], oid)
    assert "WM-R2 风险揭示" in view.markdown and "WM-R2 风险揭示" in view.html
    assert "<table>" in view.html and "2.80% ~ 3.50%" in view.markdown
    assert view.reaction == "positive" and view.feedback == "客户认可收益区间"


def _close(crm, world, deal, amount):
    cid, oid = deal
    _to_proposal(crm, world, oid, cid, amount=amount)
    proposals.make_proposal(crm, world["rm1"], oid, now=T0)
    opportunities.move(crm, world["rm1"], oid, "closing", now=T0)
    return _opp(crm, oid).close_request_id


def test_closing_small_amount_wins_on_compliance_approval(crm, world, deal):
    cid, oid = deal
    rid = _close(crm, world, deal, "100000")
    with crm.db.read() as s:
        assert s.get(ApprovalRequest, rid).next_role == "compliance"
    approvals.approve(crm, world["comp1"], rid, "合规")
    opp = _opp(crm, oid)
    assert opp.stage == "won" and opp.result_ref.startswith("trade:") and opp.contract_text
    assert "王建国" in opp.contract_text
    with crm.db.read() as s:
        assert s.scalar(select(Holding.amount_fen).where(Holding.customer_id == cid)) == 10_000_000
        assert s.scalar(select(Customer.aum_fen).where(Customer.id == cid)) >= 10_000_000
        kinds = set(s.scalars(select(Task.kind).where(Task.entity == "opportunity",
                                                      Task.entity_id == oid)))
    assert kinds == {"onboarding", "review"}


def test_closing_large_amount_then_climbs_two_levels(crm, world, deal):
    cid, oid = deal
    rid = _close(crm, world, deal, "2500000")
    approvals.approve(crm, world["comp1"], rid, "ok")
    opp = _opp(crm, oid)
    assert opp.stage == "won" and opp.result_ref.startswith("request:")
    tx_id = int(opp.result_ref.split(":")[1])
    with crm.db.read() as s:
        req = s.get(ApprovalRequest, tx_id)
        assert req.kind == "large_transaction" and [lv["role"] for lv in req.levels] == [
            "supervisor", "branch_head"]
        assert s.scalar(select(Trade.id).where(Trade.customer_id == cid)) is None
    approvals.approve(crm, world["sup1"], tx_id, "ok")
    approvals.approve(crm, world["bh1"], tx_id, "ok")
    with crm.db.read() as s:
        assert s.scalar(select(Trade.amount_fen).where(Trade.customer_id == cid)) == 250_000_000


def test_override_product_asks_compliance_twice_never_the_same_person(crm, world, deal):
    cid, oid = deal
    _to_proposal(crm, world, oid, cid, code="WM-R4", amount="100000")
    proposals.make_proposal(crm, world["rm1"], oid, now=T0)
    opportunities.move(crm, world["rm1"], oid, "closing", now=T0)
    with crm.db.read() as s:
        req = s.get(ApprovalRequest, _opp(crm, oid).close_request_id)
        assert [lv["role"] for lv in req.levels] == ["compliance", "compliance"]


def test_rejected_close_returns_to_proposal(crm, world, deal):
    _cid, oid = deal
    rid = _close(crm, world, deal, "100000")
    approvals.reject(crm, world["comp1"], rid, "材料不全")
    assert opportunities.move(crm, world["rm1"], oid, "proposal") == "proposal"


def test_lead_to_customer_conversion_starts_kyc_and_risk_questionnaire(crm, world):
    lid = leads.create_lead(crm, world["rm1"], {
        "name": "孙悟空", "source": "walk_in", "phone": "13566667777",
        "national_id": "11010519900307123X" if False else _valid(), "estimated_assets": "800000"},
        now=T0)
    with crm.db.write() as s:  # give it to rm1 whatever the shipped rules did with it
        from crm_tui.store.models_sales import Lead
        lead = s.get(Lead, lid)
        lead.owner_id = world["rm1"].id
        lead.status = "assigned"
    with pytest.raises(Blocked) as exc:
        conversion.convert_lead(crm, world["rm1"], lid, now=T0)
    assert exc.value.key == "sales.error.not_contacted"
    leads.record_contact(crm, world["rm1"], lid, at=T0 + timedelta(hours=1))
    oid = conversion.convert_lead(crm, world["rm1"], lid, now=T0 + timedelta(hours=2))
    opp = _opp(crm, oid)
    assert opp.stage == "needs" and opp.amount_fen == 80_000_000
    level = submit_risk(crm, world["rm1"], opp.customer_id,
                        {q: "3" for q in ("age", "experience", "horizon", "loss_tolerance",
                                          "income_stability", "objective")})
    assert level == "C3"
    cards = board.column_cards(crm, world["rm1"], "needs")
    assert [c.id for c in cards] == [oid] and cards[0].first_contact_at is not None


def _valid() -> str:
    from tests.conftest import valid_id

    return valid_id("11010519900307123")


def test_board_columns_and_scope(crm, world, deal):
    _cid, oid = deal
    cols = {c.stage: c for c in board.columns(crm, world["rm1"])}
    assert cols["needs"].count == 1 and cols["won"].count == 0
    assert board.columns(crm, world["rm3"])[0].count == 0
    assert board.columns(crm, world["sup1"])[0].count == 1
    assert board.columns(crm, world["sup2"])[0].count == 0
    assert board.columns(crm, world["bh1"])[0].count == 1
    assert board.columns(crm, world["rm1"], board.BoardFilter(product_code="WM-R2"))[0].count == 0
    _ = Decimal


def test_approvals_notify_deciders_and_the_maker(crm, world, deal):
    from crm_tui.domain.workflow.notifications import list_notifications, unread_count

    rid = _close(crm, world, deal, "100000")
    [waiting] = [n for n in list_notifications(crm, world["comp1"])
                 if n.message_key == "notify.approval_waiting"]
    assert waiting.entity_id == rid and waiting.params["kind"] == "@compliance.kind.contract_close"
    before = unread_count(crm, world["rm1"])
    approvals.approve(crm, world["comp1"], rid, "ok")
    assert unread_count(crm, world["rm1"]) == before + 2  # approved + won
    keys = {n.message_key for n in list_notifications(crm, world["rm1"], unread_only=True)}
    assert {"notify.approval_closed", "sales.notify.won"} <= keys


def test_override_product_with_a_large_amount_runs_its_chain_after_the_close(crm, world, deal):
    cid, oid = deal
    _to_proposal(crm, world, oid, cid, code="WM-R4", amount="2500000")
    proposals.make_proposal(crm, world["rm1"], oid, now=T0)
    opportunities.move(crm, world["rm1"], oid, "closing", now=T0)
    from crm_tui.domain.admin.auth import actor_of
    from crm_tui.store.models import Staff

    with crm.db.write() as s:
        s.add(Staff(username="comp2", display_name="合规二", role="compliance",
                    branch_id=world.branches["BJ01"]))
    with crm.db.read() as s:
        comp2 = actor_of(s.scalars(select(Staff).where(Staff.username == "comp2")).one())
    rid = _opp(crm, oid).close_request_id
    approvals.approve(crm, world["comp1"], rid, "override ok")
    approvals.approve(crm, comp2, rid, "contract ok")
    tx_id = int(_opp(crm, oid).result_ref.split(":")[1])
    approvals.approve(crm, world["sup1"], tx_id, "ok")
    approvals.approve(crm, world["bh1"], tx_id, "ok")
    with crm.db.read() as s:
        assert s.scalar(select(Trade.amount_fen).where(Trade.customer_id == cid)) == 250_000_000

"""A rebalancing suggestion turned into a proposal (issue 15): the opportunity's lines are
the suggested purchases, re-checked by the pipeline's line rules in the same transaction
as its stage events and audit event; one open rebalancing opportunity per customer;
nothing to rebalance, a blocked line and an actor out of scope are refused. SQLite and PG."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from crm_tui.domain.kernel.errors import Blocked, NotFound, PermissionDenied, ValidationFailed
from crm_tui.domain.products.portfolio import Move, Rebalancing, suggest_rebalancing
from crm_tui.domain.sales import proposals
from crm_tui.domain.sales import rebalancing_proposal as rp
from crm_tui.domain.sales.questionnaires import submit_needs
from crm_tui.store.models import AuditEvent, Product
from crm_tui.store.models_sales import Opportunity, OpportunityLine, OpportunityStageEvent
from tests.compliance_world import add_customer
from tests.sales_support import T0
from tests.test_products_allocation import _book, _hold, _p
from tests.test_sales_pipeline import NEEDS

TODAY = date.today()


def _ready(crm, world) -> int:
    """The hand-worked book of test_products_allocation, with a needs questionnaire."""
    cid = _book(crm, world)
    submit_needs(crm, world["rm1"], cid, NEEDS, now=T0)
    return cid


def _opps(crm, cid) -> list[Opportunity]:
    with crm.db.read() as s:
        return list(s.scalars(select(Opportunity).where(Opportunity.customer_id == cid)))


def test_lines_are_the_suggested_buys_with_stages_audit_and_plan(crm, world):
    cid = _ready(crm, world)
    made = rp.propose_rebalancing(crm, world["rm1"], cid, now=T0, today=TODAY)
    assert (made.stage, made.buys, made.sells, made.total) == ("proposal", 2, 2, Decimal("23000.00"))
    [opp] = _opps(crm, cid)
    assert opp.id == made.opportunity_id and opp.stage == "proposal"
    with crm.db.read() as s:
        lines = s.execute(select(Product.code, OpportunityLine.amount_fen)
                          .join(Product, Product.id == OpportunityLine.product_id)
                          .where(OpportunityLine.opportunity_id == opp.id)
                          .order_by(OpportunityLine.position)).all()
        stages = s.scalars(select(OpportunityStageEvent.to_stage).where(
            OpportunityStageEvent.opportunity_id == opp.id).order_by(OpportunityStageEvent.id)).all()
        events = s.scalars(select(AuditEvent.action).where(
            AuditEvent.entity == "opportunity", AuditEvent.entity_id == str(opp.id))).all()
    # the suggestion (test_products_allocation): buy F1 15,000 and I2 8,000; sell EQ, DEP
    assert [tuple(r) for r in lines] == [("F1", 1_500_000), ("I2", 800_000)]
    assert opp.amount_fen == 2_300_000
    assert list(stages) == ["needs", "matching", "proposal"]
    assert "opportunity.rebalancing" in events and "opportunity.create" in events
    assert opp.custom["_source"] == "rebalancing"
    assert [(e["action"], e["code"], e["amount"]) for e in opp.custom["_plan"]] == [
        ("sell", "EQ", "20000.00"), ("buy", "F1", "15000.00"),
        ("sell", "DEP", "10000.00"), ("buy", "I2", "8000.00")]


def test_the_proposal_document_lists_the_whole_plan(crm, world):
    cid = _ready(crm, world)
    made = rp.propose_rebalancing(crm, world["rm1"], cid, now=T0, today=TODAY)
    proposals.make_proposal(crm, world["rm1"], made.opportunity_id, now=T0)
    [view] = proposals.proposals_of(crm, world["rm1"], made.opportunity_id)
    plan = view.markdown.split("Rebalancing plan", 1)[1]
    assert "Redeem · 产品EQ (EQ) · 20,000.00 CNY" in plan
    assert "Subscribe · 产品F1 (F1) · 15,000.00 CNY" in plan
    assert "Redeem · 产品DEP (DEP) · 10,000.00 CNY" in plan
    assert "产品I2" in view.markdown.split("Rebalancing plan", 1)[0]  # a line of the product table


def test_no_second_open_rebalancing_opportunity(crm, world):
    cid = _ready(crm, world)
    first = rp.propose_rebalancing(crm, world["rm1"], cid, now=T0, today=TODAY)
    with pytest.raises(Blocked) as exc:
        rp.propose_rebalancing(crm, world["sup1"], cid, now=T0, today=TODAY)
    assert exc.value.key == "rebalance.error.already_open"
    assert len(_opps(crm, cid)) == 1
    with crm.db.write() as s:  # once it is closed, a new plan may be proposed
        s.execute(update(Opportunity).where(Opportunity.id == first.opportunity_id)
                  .values(stage="lost"))
    second = rp.propose_rebalancing(crm, world["rm1"], cid, now=T0, today=TODAY)
    assert second.opportunity_id != first.opportunity_id and len(_opps(crm, cid)) == 2


def test_inside_the_band_is_refused(crm, world):
    cid = add_customer(crm, world, "rm1", "刚刚好", "C3", "11010119800101012")
    with crm.db.write() as s:  # exactly the C3 model: cash 10, FI 45, mixed 25, equity 10, ins 10
        for code, ac, yuan in (("B1", "cash", 10_000), ("B2", "fixed_income", 45_000),
                               ("B3", "mixed", 25_000), ("B4", "equity", 10_000),
                               ("B5", "insurance", 10_000)):
            _hold(s, cid, _p(s, code, ac, "R1"), yuan)
    submit_needs(crm, world["rm1"], cid, NEEDS, now=T0)
    assert not suggest_rebalancing(crm, world["rm1"], cid, today=TODAY).moves
    with pytest.raises(Blocked) as exc:
        rp.propose_rebalancing(crm, world["rm1"], cid, now=T0, today=TODAY)
    assert exc.value.key == "rebalance.error.in_band"
    assert _opps(crm, cid) == []


def _stale(crm, world, cid, code, amount):
    """The suggestion as the RM saw it, one purchase changed since (a stale plan)."""
    plan = suggest_rebalancing(crm, world["rm1"], cid, today=TODAY)
    moves = tuple(Move(m.rank, m.action, m.asset_class, code if m.product_code == "F1"
                       else m.product_code, m.product_name,
                       Decimal(amount) if m.product_code == "F1" else m.amount, m.currency,
                       m.drift, m.reason_key, m.params) for m in plan.moves)
    return Rebalancing(plan.allocation, moves)


def test_lines_are_rechecked_for_suitability_and_step(crm, world, monkeypatch):
    cid = _ready(crm, world)
    with crm.db.write() as s:
        _p(s, "F5", "fixed_income", "R5", min_yuan=1_000)  # C3 × R5 is blocked outright
    monkeypatch.setattr(rp, "suggest_rebalancing",
                        lambda *a, **k: _stale(crm, world, cid, "F5", "15000"))
    with pytest.raises(Blocked) as exc:
        rp.propose_rebalancing(crm, world["rm1"], cid, now=T0, today=TODAY)
    assert exc.value.key == "sales.lines.blocked" and exc.value.params["code"] == "F5"
    monkeypatch.setattr(rp, "suggest_rebalancing",  # F1: 10,000 minimum + steps of 1,000
                        lambda *a, **k: _stale(crm, world, cid, "F1", "15500"))
    with pytest.raises(ValidationFailed) as bad:
        rp.propose_rebalancing(crm, world["rm1"], cid, now=T0, today=TODAY)
    assert bad.value.errors[0].key == "sales.lines.step"
    assert _opps(crm, cid) == []  # nothing half-made: the opportunity went with the lines
    with crm.db.read() as s:
        assert s.scalar(select(func.count()).select_from(OpportunityStageEvent)) == 0


def test_scope_and_permission(crm, world):
    cid = _ready(crm, world)
    with pytest.raises(NotFound):
        rp.propose_rebalancing(crm, world["rm_sh"], cid, now=T0, today=TODAY)
    with pytest.raises(PermissionDenied):
        rp.propose_rebalancing(crm, world["comp1"], cid, now=T0, today=TODAY)
    assert _opps(crm, cid) == []
    assert not rp.may_propose(world["comp1"], suggest_rebalancing(crm, world["rm1"], cid,
                                                                   today=TODAY))


def test_no_purchase_to_propose_is_refused_with_the_reason(crm, world):
    cid = add_customer(crm, world, "rm1", "空空", "C3", "11010119800101013")
    submit_needs(crm, world["rm1"], cid, NEEDS, now=T0)
    plan = suggest_rebalancing(crm, world["rm1"], cid, today=TODAY)
    assert plan.blocked_key == "products.rebalance.nothing_held" and not plan.moves
    assert not rp.may_propose(world["rm1"], plan)
    with pytest.raises(Blocked) as exc:
        rp.propose_rebalancing(crm, world["rm1"], cid, now=T0, today=TODAY)
    assert exc.value.key == "rebalance.error.blocked"
    assert exc.value.params["reason"].key == "products.rebalance.nothing_held"
    assert exc.value.message.startswith("No purchase can be proposed: ")
    assert _opps(crm, cid) == []

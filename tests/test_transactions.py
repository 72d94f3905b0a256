"""Transactions: suitability gates, approval chains by threshold, execution only after the
last level, rejection ends it, a freeze refuses it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm_tui.domain.compliance import approval_views, approvals
from crm_tui.domain.compliance.approvals import NotDecidable, Stale
from crm_tui.domain.kernel.errors import Blocked, PermissionDenied, ValidationFailed
from crm_tui.domain.sales.transactions import record_transaction
from crm_tui.i18n import render
from crm_tui.store.models import Customer, Holding, Trade
from crm_tui.store.models_compliance import RiskAlert
from tests.compliance_world import build_book, give_holding


@pytest.fixture
def book(crm, world):
    return build_book(crm, world)


def _trades(crm) -> int:
    with crm.db.read() as s:
        return s.scalar(select(func.count()).select_from(Trade)) or 0


def _aum(crm, cid) -> int:
    with crm.db.read() as s:
        return s.scalar(select(Customer.aum_fen).where(Customer.id == cid)) or 0


def test_small_suitable_subscription_executes_at_once(crm, world, book):
    cid = book.customers["c1"]
    out = record_transaction(crm, world["rm1"], cid, "subscription", "100,000.00",
                             product_code="P-R3")
    assert out.status == "executed" and out.trade_id
    assert _aum(crm, cid) == 10_000_000
    with crm.db.read() as s:
        h = s.scalars(select(Holding).where(Holding.customer_id == cid)).one()
        assert h.amount_fen == 10_000_000
        trade = s.get(Trade, out.trade_id)
        assert trade.kind == "subscription" and trade.staff_id == world["rm1"].id


def test_unsuitable_subscription_is_blocked_with_reason(crm, world, book):
    with pytest.raises(Blocked) as err:
        record_transaction(crm, world["rm1"], book.customers["c2"], "subscription", "1000",
                           product_code="P-R4")  # C1 customer, R4 product
    assert err.value.message == "Not suitable: a C1 customer may not buy an R4 product."
    assert _trades(crm) == 0


def test_override_goes_to_compliance_with_evidence(crm, world, book):
    cid = book.customers["c2"]  # C1
    out = record_transaction(crm, world["rm1"], cid, "subscription", "1000",
                             product_code="P-R2")
    assert out.status == "pending_approval" and out.levels == ("compliance",)
    assert _trades(crm) == 0
    detail = approval_views.get_request(crm, world["comp1"], out.request_id)
    assert detail.request.kind == "suitability_override"
    evidence = {render(k): render(v) for k, v in detail.evidence}
    assert evidence["Product risk"] == "R2" and evidence["Assessed level"] == "C1"
    assert evidence["Risk assessment no."] not in ("", "-")
    with pytest.raises(NotDecidable):
        approvals.approve(crm, world["sup1"], out.request_id)
    approvals.approve(crm, world["comp1"], out.request_id, "客户书面确认风险")
    assert _trades(crm) == 1
    assert _aum(crm, cid) == 100_000


def test_chain_three_levels_executes_only_after_last(crm, world, book):
    cid = book.customers["c1"]
    out = record_transaction(crm, world["rm1"], cid, "transfer", "12,000,000")
    assert out.levels == ("supervisor", "branch_head", "risk")
    rid = out.request_id
    approvals.approve(crm, world["sup1"], rid)
    assert _trades(crm) == 0
    # the same person cannot take the next level even if she had the role
    with pytest.raises(NotDecidable):
        approvals.approve(crm, world["sup1"], rid)
    with pytest.raises(NotDecidable):
        approvals.approve(crm, world["bh_sh"], rid)  # another branch's head
    approvals.approve(crm, world["bh1"], rid)
    assert _trades(crm) == 0
    assert [r.id for r in approval_views.inbox(crm, world["risk1"])] == [rid]
    approvals.approve(crm, world["risk1"], rid)
    assert _trades(crm) == 1
    detail = approval_views.get_request(crm, world["rm1"], rid)
    assert [lv.status for lv in detail.levels] == ["approved"] * 3
    with crm.db.read() as s:
        trade = s.scalars(select(Trade)).one()
        assert trade.external_ref == f"approval:{rid}" and trade.amount_fen == 1_200_000_000


@pytest.mark.parametrize("amount, levels", [
    ("499,999.99", ()), ("500,000", ("supervisor",)),
    ("2,000,000", ("supervisor", "branch_head")),
    ("10,000,000", ("supervisor", "branch_head", "risk")),
])
def test_thresholds(crm, world, book, amount, levels):
    out = record_transaction(crm, world["rm1"], book.customers["c1"], "cross_border", amount)
    assert out.levels == levels
    assert out.status == ("executed" if not levels else "pending_approval")


def test_rejection_at_any_level_ends_it(crm, world, book):
    out = record_transaction(crm, world["rm1"], book.customers["c1"], "transfer", "3,000,000")
    approvals.approve(crm, world["sup1"], out.request_id)
    approvals.reject(crm, world["bh1"], out.request_id, "资金来源说明不足")
    assert _trades(crm) == 0
    assert approval_views.get_request(crm, world["rm1"], out.request_id).request.status == "rejected"
    assert approval_views.inbox(crm, world["bh1"]) == []


def test_redemption_checks_holding_and_goes_stale_if_it_changes(crm, world, book):
    cid = book.customers["c1"]
    with pytest.raises(Blocked):
        record_transaction(crm, world["rm1"], cid, "redemption", "100", product_code="P-R3")
    give_holding(crm, cid, book.products["P-R3"], 100_000_000)  # 1,000,000.00
    out = record_transaction(crm, world["rm1"], cid, "redemption", "600,000", product_code="P-R3")
    assert out.status == "pending_approval"
    small = record_transaction(crm, world["rm1"], cid, "redemption", "1,000", product_code="P-R3")
    assert small.status == "executed"
    with pytest.raises(Stale):
        approvals.approve(crm, world["sup1"], out.request_id)
    assert _aum(crm, cid) == 100_000_000 - 100_000


def test_frozen_customer_refused_at_record_and_at_approval(crm, world, book):
    cid = book.customers["c1"]
    out = record_transaction(crm, world["rm1"], cid, "transfer", "600,000")
    with crm.db.write() as s:
        s.add(RiskAlert(alert_key="t1", rule="cross_border_burst", kind="cross_border",
                        severity="high", freeze=True, customer_id=cid, details={}))
    with pytest.raises(Blocked) as err:
        record_transaction(crm, world["rm1"], cid, "transfer", "100")
    assert err.value.key == "compliance.error.frozen"
    assert "cross-border burst" in err.value.message
    with pytest.raises(Blocked):
        approvals.approve(crm, world["sup1"], out.request_id)
    assert approval_views.get_request(crm, world["rm1"], out.request_id).request.status == "pending"
    from crm_tui.domain.compliance.sensitive_changes import request_change

    with pytest.raises(Blocked):
        request_change(crm, world["rm1"], cid, "phone", "13912345678")


def test_bad_input(crm, world, book):
    cid = book.customers["c1"]
    with pytest.raises(ValidationFailed) as err:
        record_transaction(crm, world["rm1"], cid, "transfer", "-5")
    assert "tx_amount" in err.value.by_field()
    with pytest.raises(ValidationFailed):
        record_transaction(crm, world["rm1"], cid, "gift", "5")
    with pytest.raises(ValidationFailed):
        record_transaction(crm, world["rm1"], cid, "subscription", "5")  # no product
    with pytest.raises(ValidationFailed) as err:  # no USD chain in the default policy
        record_transaction(crm, world["rm1"], cid, "subscription", "5", product_code="P-USD")
    assert err.value.errors[0].key == "compliance.validation.no_chain"
    with pytest.raises(PermissionDenied):
        record_transaction(crm, world["comp1"], cid, "transfer", "5")
    assert _trades(crm) == 0
    assert Decimal("0") == Decimal(_aum(crm, cid))


def test_one_person_decides_one_level_even_when_two_levels_share_a_role(crm, world, book):
    from crm_tui.domain.compliance.policy_changes import apply_policy_text
    from crm_tui.domain.policy.document import active_policy_text

    text = active_policy_text(crm.db).replace(
        'levels = [{ role = "supervisor" }, { role = "branch_head" }]',
        'levels = [{ role = "supervisor" }, { role = "supervisor", scope = "branch" }]')
    apply_policy_text(crm, world["admin"], text)
    out = record_transaction(crm, world["rm1"], book.customers["c1"], "transfer", "2,500,000")
    assert out.levels == ("supervisor", "supervisor")
    assert approvals.approve(crm, world["sup1"], out.request_id) == "pending"
    with pytest.raises(NotDecidable) as err:
        approvals.approve(crm, world["sup1"], out.request_id)
    assert err.value.key == "compliance.error.already_decided"
    assert approval_views.inbox(crm, world["sup1"]) == []
    assert [r.id for r in approval_views.inbox(crm, world["sup2"])] == [out.request_id]
    assert approvals.approve(crm, world["sup2"], out.request_id) == "approved"
    assert _trades(crm) == 1

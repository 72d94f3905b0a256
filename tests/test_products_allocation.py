"""Allocation, drift and rebalancing on a hand-worked example; holdings above the risk
level after a downgrade. Every expected figure below is worked out by hand in the comments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select, update

from crm_tui.domain.products.portfolio import amount_fits, customer_allocation, suggest_rebalancing
from crm_tui.store.models import Customer, Holding, Product
from tests.compliance_world import add_customer

TODAY = date.today()


def _p(s, code, ac, risk, *, min_yuan=0, step_yuan=0, ret_bp=None, early=True, active=True):
    p = Product(code=code, name=f"产品{code}", category="wealth", risk_level=risk,
                asset_class=ac, min_amount_fen=min_yuan * 100, step_amount_fen=step_yuan * 100,
                expected_return_high_bp=ret_bp, early_redeemable=early, active=active)
    s.add(p)
    s.flush()
    return p.id


def _hold(s, cid, pid, yuan):
    s.add(Holding(customer_id=cid, product_id=pid, units_e4=yuan * 10_000, amount_fen=yuan * 100))


def _book(crm, world):
    """A C3 customer with 100,000.00: cash 20k, fixed income 30k, mixed 20k, equity 30k."""
    cid = add_customer(crm, world, "rm1", "钱多多", "C3", "11010119800101011")
    with crm.db.write() as s:
        _hold(s, cid, _p(s, "DEP", "cash", "R1"), 20_000)
        _hold(s, cid, _p(s, "FI0", "fixed_income", "R2", early=False), 30_000)
        _hold(s, cid, _p(s, "MIX", "mixed", "R3"), 20_000)
        _hold(s, cid, _p(s, "EQ", "equity", "R3"), 30_000)
        _p(s, "F1", "fixed_income", "R2", min_yuan=10_000, step_yuan=1_000, ret_bp=380)
        _p(s, "F2", "fixed_income", "R4", min_yuan=1_000, ret_bp=900)  # C3 × R4 needs approval
        _p(s, "F3", "fixed_income", "R1", min_yuan=1_000, ret_bp=500, active=False)  # retired
        _p(s, "I1", "insurance", "R1", min_yuan=20_000, ret_bp=300)  # minimum above 10k
        _p(s, "I2", "insurance", "R1", min_yuan=5_000, step_yuan=3_000, ret_bp=250)
    return cid


def test_allocation_and_drift_by_hand(crm, world):
    cid = _book(crm, world)
    alloc, model = customer_allocation(crm, world["rm1"], cid, today=TODAY)
    by = {s.asset_class: s for s in alloc.slices}
    assert alloc.total == Decimal("100000.00")
    # C3 model: cash 10, fixed income 45, mixed 25, equity 10, insurance 10; band 5
    assert model is not None and model.band == 5
    expected = {  # class: (weight, target, drift, outside)
        "cash": (20, 10, 10, True), "fixed_income": (30, 45, -15, True),
        "mixed": (20, 25, -5, False),  # exactly on the band's edge is inside
        "equity": (30, 10, 20, True), "alternatives": (0, 0, 0, False),
        "insurance": (0, 10, -10, True)}
    for ac, (w, tgt, d, out) in expected.items():
        s = by[ac]
        assert (s.weight, s.target, s.drift, s.outside) == (w, tgt, d, out), ac
    assert alloc.out_of_band and alloc.worst_drift == 20 and alloc.above_risk == ()


def test_rebalancing_respects_suitability_and_minimums(crm, world):
    cid = _book(crm, world)
    plan = suggest_rebalancing(crm, world["rm1"], cid, today=TODAY)
    moves = [(m.rank, m.action, m.product_code, m.amount) for m in plan.moves]
    # equity +20 → sell 20,000 of EQ; fixed income −15 → buy 15,000 of F1 (F2 pays more but
    # C3 may not buy R4 without approval; F3 is retired); cash +10 → sell 10,000 of DEP;
    # insurance −10 → I1's minimum is 20,000, so I2: 5,000 + 1 step of 3,000 = 8,000
    assert moves == [(1, "sell", "EQ", Decimal("20000.00")), (2, "buy", "F1", Decimal("15000.00")),
                     (3, "sell", "DEP", Decimal("10000.00")), (4, "buy", "I2", Decimal("8000.00"))]
    assert all(amount_fits(m.amount, Decimal(5000), Decimal(3000)) for m in plan.moves
               if m.product_code == "I2")


def test_downgrade_flags_holdings_above_level_and_limits_suggestions(crm, world):
    cid = _book(crm, world)
    with crm.db.write() as s:
        s.execute(update(Customer).where(Customer.id == cid).values(risk_level="C1"))
    alloc, model = customer_allocation(crm, world["rm1"], cid, today=TODAY)
    flagged = {(a.product_code, a.action) for a in alloc.above_risk}
    # C1 × R3 is blocked, C1 × R2 needs a compliance override; the R1 deposit is fine
    assert flagged == {("MIX", "block"), ("EQ", "block"), ("FI0", "approve")}
    assert model is not None and model.level == "C1"
    plan = suggest_rebalancing(crm, world["rm1"], cid, today=TODAY)
    # C1 model: cash 40, fixed income 55, insurance 5, band 5. Equity 30 and mixed 20 have no
    # target: sell all of both. Cash 20 → buy 20,000 of DEP (R1). Fixed income 30 → −25, but
    # only R1 is allowed outright at C1: F1 (R2) needs approval, F2 (R4) is blocked, F3 is
    # retired, so no fixed-income purchase. Insurance 0 → −5 is on the band's edge: nothing.
    # FI0 cannot be redeemed early, so it is never a sale.
    assert [(m.action, m.product_code, m.amount) for m in plan.moves] == [
        ("sell", "EQ", Decimal("30000.00")), ("sell", "MIX", Decimal("20000.00")),
        ("buy", "DEP", Decimal("20000.00"))]


def test_allocation_is_scoped(crm, world):
    cid = _book(crm, world)
    import pytest

    from crm_tui.domain.kernel.errors import NotFound
    with pytest.raises(NotFound):
        customer_allocation(crm, world["rm_sh"], cid)


def test_lists_in_scope_paged_and_exported(crm, world, tmp_path):
    import stat

    from crm_tui.domain.products import lists

    cid = _book(crm, world)
    other = add_customer(crm, world, "rm1", "孙平衡", "C3", "11010119800101012")
    with crm.db.write() as s:
        ids = dict(s.execute(select(Product.code, Product.id)).all())
        # exactly the C3 model: 10 / 45 / 25 / 10 / 10 → inside the band
        for code, yuan in (("DEP", 10_000), ("FI0", 45_000), ("MIX", 25_000), ("EQ", 10_000),
                           ("I2", 10_000)):
            _hold(s, other, ids[code], yuan)
        s.execute(update(Customer).where(Customer.id == cid).values(risk_level="C1"))
    rm1, sup1, rm_sh = world["rm1"], world["sup1"], world["rm_sh"]
    page = lists.out_of_band(crm, rm1, today=TODAY)
    assert [r.customer_id for r in page.rows] == [cid] and page.after is None
    assert page.rows[0].worst_class == "equity" and page.rows[0].worst_drift == 30
    assert [r.customer_id for r in lists.out_of_band(crm, sup1, today=TODAY).rows] == [cid]
    assert lists.out_of_band(crm, rm_sh, today=TODAY).rows == ()
    first = lists.above_risk(crm, rm1, limit=2, today=TODAY)
    assert len(first.rows) == 2 and first.after is not None
    rest = lists.above_risk(crm, rm1, after=first.after, limit=2, today=TODAY)
    assert {r.product_code for r in first.rows + rest.rows} == {"FI0", "MIX", "EQ"}
    assert rest.after is None and lists.above_risk(crm, rm_sh, today=TODAY).rows == ()
    out = tmp_path / "above.csv"
    assert lists.export_list(crm, rm1, "above_risk", out, today=TODAY) == 3
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "钱多多" in out.read_text(encoding="utf-8-sig")

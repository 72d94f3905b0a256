"""Holdings valued in SQL at the latest price and rate on or before a date, in several
currencies; trades in units at the latest price. Expected figures are worked by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm_tui.domain.customers.profile import get_profile
from crm_tui.domain.kernel.errors import Blocked
from crm_tui.domain.products.valuation import customer_values, refresh_aum
from crm_tui.domain.sales.transactions import record_transaction
from crm_tui.store.models import Customer, Holding, Product
from crm_tui.store.models_products import ExchangeRate, ProductPrice
from tests.compliance_world import build_book

D = date


def _product(s, code, currency="CNY", risk="R1", asset_class="mixed"):
    p = Product(code=code, name=f"产品{code}", category="fund", risk_level=risk,
                currency=currency, asset_class=asset_class)
    s.add(p)
    s.flush()
    return p.id


def _world(crm, customer_ids):
    c1, c2 = customer_ids
    with crm.db.write() as s:
        a = _product(s, "A")
        b = _product(s, "B", "USD")
        c = _product(s, "C", "HKD")
        d = _product(s, "D", asset_class="cash")
        e = _product(s, "E", "EUR")
        s.add_all([ProductPrice(product_id=a, price_date=D(2026, 11, 29), price_e6=1_000_000),
                   ProductPrice(product_id=a, price_date=D(2026, 11, 30), price_e6=1_050_000),
                   ProductPrice(product_id=a, price_date=D(2026, 12, 2), price_e6=1_200_000),
                   ProductPrice(product_id=b, price_date=D(2026, 11, 30), price_e6=2_000_000),
                   ExchangeRate(currency="USD", rate_date=D(2026, 11, 29), rate_e6=7_000_000),
                   ExchangeRate(currency="USD", rate_date=D(2026, 11, 30), rate_e6=7_100_000),
                   ExchangeRate(currency="HKD", rate_date=D(2026, 11, 30), rate_e6=910_000)])
        s.add_all([
            Holding(customer_id=c1, product_id=a, units_e4=10_005_000, amount_fen=100_000),  # 1000.5 u
            Holding(customer_id=c1, product_id=b, units_e4=3_000_000, amount_fen=55_000,
                    currency="USD"),  # 300 units, cost USD 550.00
            Holding(customer_id=c1, product_id=c, units_e4=10_000_000, amount_fen=100_000,
                    currency="HKD"),  # 1000 units at par
            Holding(customer_id=c1, product_id=d, units_e4=50_000_000, amount_fen=500_000),  # 5000 principal
            Holding(customer_id=c2, product_id=e, units_e4=1_000_000, amount_fen=10_000,
                    currency="EUR"),  # no EUR rate
        ])


def test_valuation_with_several_currencies_and_dates(crm, world):
    book = build_book(crm, world)
    c1, c2 = book.customers["c1"], book.customers["c2"]
    _world(crm, (c1, c2))
    with crm.db.read() as s:
        def totals(day):
            return {cid: int(v) for cid, v in s.execute(customer_values(day)).all()}
        # 12-01: A 1000.5 × 1.05 = 1050.525 → 1050.53; B 300 × 2 = USD 600 × 7.1 = 4260.00;
        # C HKD 1000 (par) × 0.91 = 910.00; D 5000.00 → 11,220.53
        assert totals(D(2026, 12, 1)) == {c1: 1_122_053, c2: 0}
        # 12-02: A at 1.2 → 1200.60 → 11,370.60
        assert totals(D(2026, 12, 2))[c1] == 1_137_060
        # 11-29: A at 1.0 → 1000.50; B has no price yet (par) → USD 300 × 7.0 = 2100.00;
        # C has no HKD rate yet (counts 0); D 5000.00 → 8,100.50
        assert totals(D(2026, 11, 29))[c1] == 810_050
    with crm.db.write() as s:
        assert refresh_aum(s, D(2026, 12, 1)) == 1  # c2 was 0 already
    with crm.db.read() as s:
        assert s.scalar(select(Customer.aum_fen).where(Customer.id == c1)) == 1_122_053
    view = get_profile(crm, world["rm1"], c1, today=D(2026, 12, 1))
    assert view.aum == Decimal("11220.53")
    by = {h.product_code: h for h in view.holdings}
    assert [h.product_code for h in view.holdings] == ["D", "B", "A", "C"]  # by CNY value
    assert (by["A"].units, by["A"].price, by["A"].cost, by["A"].value) == (
        Decimal("1000.5"), Decimal("1.05"), Decimal("1000.00"), Decimal("1050.53"))
    assert by["A"].gain == Decimal("50.53")
    assert (by["B"].currency, by["B"].value, by["B"].value_cny, by["B"].gain) == (
        "USD", Decimal("600.00"), Decimal("4260.00"), Decimal("50.00"))
    assert sum(h.amount for h in view.holdings) == view.aum
    eur = get_profile(crm, world["rm1"], c2, today=D(2026, 12, 1)).holdings[0]
    assert eur.value == Decimal("100.00") and eur.value_cny is None


def test_trades_move_units_at_the_latest_price(crm, world):
    book = build_book(crm, world)
    c1 = book.customers["c1"]
    _world(crm, (c1, book.customers["c2"]))
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: A is at 1.05
    rm = world["rm1"]
    with crm.db.write() as s:  # no later price: AUM (valued today) then sees 1.05 too
        s.execute(Holding.__table__.delete().where(Holding.customer_id == c1))
        s.execute(ProductPrice.__table__.delete().where(ProductPrice.price_date > D(2026, 12, 1)))
    out = record_transaction(crm, rm, c1, "subscription", "1000", product_code="A", now=now)
    assert out.status == "executed"

    def holding():
        with crm.db.read() as s:
            h = s.scalars(select(Holding).where(Holding.customer_id == c1)).one()
            return h.units_e4, h.amount_fen, s.get(Customer, c1).aum_fen
    # 1000.00 / 1.05 = 952.38095… units, rounded down; worth 999.99999… → 1000.00
    assert holding() == (9_523_809, 100_000, 100_000)
    record_transaction(crm, rm, c1, "redemption", "500", product_code="A", now=now)
    # 500 / 1.05 = 476.19047… units, rounded up so the customer gets the whole 500
    units, cost, aum = holding()
    assert units == 9_523_809 - 4_761_905 and cost == 100_000 - 100_000 * 4_761_905 // 9_523_809
    assert aum == 50_000  # 476.1904 × 1.05 = 499.99992 → 500.00
    with pytest.raises(Blocked) as err:
        record_transaction(crm, rm, c1, "redemption", "500.01", product_code="A", now=now)
    assert err.value.key == "compliance.tx.insufficient" and err.value.params["held"] == "500.00"
    record_transaction(crm, rm, c1, "redemption", "500", product_code="A", now=now)
    assert holding() == (0, 0, 0)

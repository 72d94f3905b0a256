"""The catalogue, price and rate files: named row errors, a rejects file, idempotent runs."""

from __future__ import annotations

import stat

from sqlalchemy import select

from crm_tui.domain.data_io.product_files import import_prices, import_products, import_rates
from crm_tui.domain.kernel.errors import Blocked, PermissionDenied
from crm_tui.domain.products.catalogue import list_catalogue, retire_product
from crm_tui.store.models import Product
from crm_tui.store.models_products import ExchangeRate, ProductPrice

CATALOGUE = "\n".join([
    "产品代码,产品名称,产品类别,资产类别,产品风险等级,币种,起购金额,递增金额,期限,到期日,费率,"
    "业绩比较基准下限,业绩比较基准上限,发行机构,可提前赎回,风险揭示",
    "JG2026001,结构性存款2026年第1期,structured,cash,R1,CNY,50000,1000,91,2027-03-01,0,1.20,2.85,"
    "招商银行,否,本产品为结构性存款，存在收益不确定的风险。",
    "GS2026012,稳健固收+理财12号,wealth,fixed_income,R2,CNY,10000,1000,365,2027-06-30,0.30,3.00,"
    "4.20,招银理财,否,理财非存款，产品有风险，投资须谨慎。",
    "HB0001,天天利货币基金A,fund,cash,R1,CNY,1,0.01,,,0,,,易方达基金,是,货币基金不保证本金和收益。",
]) + "\n"

BAD = """code,name,category,asset_class,risk_level,currency,min_amount,fee_rate
OK1,好产品,fund,equity,R4,CNY,1000,1.5
BAD1,,fund,equity,R9,CNY,1000,1.5
BAD2,坏费率,fund,stocks,R3,CNY,-5,1.555
OK1,重复,fund,equity,R4,CNY,1000,1.5
"""


def test_catalogue_import_is_idempotent_by_code(crm, world, tmp_path):
    path = tmp_path / "catalogue.csv"
    path.write_text(CATALOGUE, encoding="utf-8-sig")
    admin = world["admin"]
    first = import_products(crm, admin, path)
    assert (first.rows, first.created, first.rejected) == (3, 3, 0)
    again = import_products(crm, admin, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    path.write_text(CATALOGUE.replace("1.20,2.85", "1.50,2.85"), encoding="utf-8-sig")
    third = import_products(crm, admin, path)
    assert (third.created, third.updated, third.unchanged) == (0, 1, 2)
    with crm.db.read() as s:
        p = s.scalars(select(Product).where(Product.code == "JG2026001")).one()
        assert (p.asset_class, p.min_amount_fen, p.step_amount_fen, p.term_days) == (
            "cash", 5_000_000, 100_000, 91)
        assert (p.expected_return_low_bp, p.expected_return_high_bp, p.early_redeemable) == (
            150, 285, False)
        assert p.issuer == "招商银行" and p.maturity_date.isoformat() == "2027-03-01"
        hb = s.scalars(select(Product).where(Product.code == "HB0001")).one()
        assert hb.maturity_date is None and hb.term_days is None and hb.early_redeemable
    codes = [v.code for v in list_catalogue(crm, admin)]
    assert codes == sorted(codes) and len(codes) == 3
    retire_product(crm, admin, "hb0001")
    assert [v.code for v in list_catalogue(crm, admin, include_retired=False)] == ["GS2026012", "JG2026001"]
    try:
        retire_product(crm, admin, "HB0001")
    except Blocked as exc:
        assert exc.key == "products.error.already_retired"
    else:
        raise AssertionError("retired twice")


def test_bad_catalogue_rows_are_named_and_rejected(crm, world, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    report = import_products(crm, world["admin"], path)
    assert (report.rows, report.created, report.rejected) == (4, 1, 3)
    lines = [e.line() for e in report.errors]
    assert "row 3: Product name: is required" in lines
    assert any(line.startswith("row 3: Product risk:") for line in lines)
    assert any(line.startswith("row 4: Asset class:") for line in lines)
    assert any(line.startswith("row 4: Minimum amount:") for line in lines)
    assert "row 4: Fee rate (%): has more than 2 decimal places" in lines
    assert any(line.startswith("row 5: ") and line.endswith("repeats row 2 of this file")
               for line in lines)
    rejects = report.rejects_path
    assert rejects is not None and stat.S_IMODE(rejects.stat().st_mode) == 0o600
    assert rejects.read_text(encoding="utf-8-sig").count("\n") == 4  # header + 3 rows


def test_catalogue_needs_admin(crm, world, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(CATALOGUE, encoding="utf-8")
    try:
        import_products(crm, world["rm1"], path)
    except PermissionDenied:
        pass
    else:
        raise AssertionError("an RM imported the catalogue")


def test_price_and_rate_files(crm, world, tmp_path):
    cat = tmp_path / "catalogue.csv"
    cat.write_text(CATALOGUE, encoding="utf-8")
    admin = world["admin"]
    import_products(crm, admin, cat)
    prices = tmp_path / "prices.csv"
    prices.write_text("产品代码,日期,价格\nGS2026012,2026-11-30,1.0234\nGS2026012,2026/12/01,1.0251\n"
                      "NOPE,2026-12-01,1.0\nGS2026012,2026-12-01,1.0300\nHB0001,2026-12-01,0\n"
                      "HB0001,2026-12-02,1.1234567\n", encoding="gbk")
    report = import_prices(crm, admin, prices)
    assert (report.rows, report.created, report.rejected) == (6, 2, 4)
    lines = [e.line() for e in report.errors]
    assert any(line.startswith("row 4: ") and line.endswith(
        ": no product with code NOPE in the catalogue") for line in lines)
    assert any(line.startswith("row 5: Price date:") for line in lines)  # same product & day as row 3
    assert any(line.startswith("row 6: Price:") for line in lines)
    assert "row 7: Price: has more than 6 decimal places" in lines
    assert import_prices(crm, admin, prices).created == 0
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,date,rate_to_cny\nUSD,2026-12-01,7.1234\nHKD,2026-12-01,0.9135\n"
                     "CNY,2026-12-01,1\nusd,2026-12-02,abc\n", encoding="utf-8")
    r = import_rates(crm, admin, rates)
    assert (r.created, r.rejected) == (2, 2)
    assert "row 4: Currency: CNY needs no rate (it is always 1)" in [e.line() for e in r.errors]
    with crm.db.read() as s:
        first = sorted(s.execute(select(ProductPrice.price_date, ProductPrice.price_e6)).all())[0]
        assert first[1] == 1_023_400
        assert dict(s.execute(select(ExchangeRate.currency, ExchangeRate.rate_e6)).all()) == {
            "USD": 7_123_400, "HKD": 913_500}

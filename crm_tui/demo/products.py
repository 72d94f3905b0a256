"""Demo catalogue: what a Chinese branch's shelf looks like — 结构性存款, 固收+理财, 货币基金,
混合/股票基金, 年金险 — with issuers, terms, maturities (some inside the 7/30/60-day
reminder windows), fees, performance benchmarks and risk disclosures; a month of NAVs that
drift deterministically; USD/HKD rates; and a few foreign-currency holdings for the wealthy.
Runs inside the seeding transaction, after the holdings are written."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import Session

from crm_tui.domain.products.valuation import refresh_aum
from crm_tui.store.models import Customer, Holding, Product
from crm_tui.store.models_products import ExchangeRate, ProductPrice

# code → asset class, min, step (yuan), term days, maturity in days from today (None: open),
# fee %, benchmark low/high %, issuer, early redemption
_DISCLOSE = {
    "deposit": "存款产品受《存款保险条例》保护，本金和利息在50万元限额内受偿。",
    "wealth": "理财非存款，产品有风险，投资须谨慎。本产品不保证本金和收益，过往业绩不代表未来表现。",
    "fund": "基金有风险，投资须谨慎。基金管理人不保证基金一定盈利，也不保证最低收益。",
    "insurance": "保险产品由保险公司承保，银行仅为代理销售机构；犹豫期后退保可能产生损失。",
    "bond": "债券存在利率风险与信用风险，提前兑取可能按当时价格计算并产生损失。",
    "structured": "结构性存款不同于一般性存款，具有投资风险，收益可能为保底收益率，请谨慎投资。",
}
CATALOGUE: dict[str, tuple[Any, ...]] = {
    "DP0001": ("cash", 1, 0.01, None, None, 0, 0.10, 0.10, "本行", True),
    "DP0002": ("cash", 50000, 1, 7, None, 0, 0.45, 0.45, "本行", True),
    "DP0003": ("cash", 50, 1, 365, 45, 0, 1.45, 1.45, "本行", True),
    "DP0004": ("cash", 50, 1, 1095, 400, 0, 1.95, 1.95, "本行", True),
    "DP0005": ("cash", 200000, 10000, 1095, 520, 0, 2.15, 2.15, "本行", True),
    "WM0001": ("cash", 1, 0.01, None, None, 0.20, 1.60, 1.90, "招银理财", True),
    "WM0002": ("fixed_income", 10000, 1000, 182, 28, 0.30, 2.60, 3.40, "招银理财", False),
    "WM0003": ("fixed_income", 10000, 1000, 365, 20, 0.30, 2.90, 3.60, "工银理财", False),
    "WM0004": ("fixed_income", 10000, 1000, 180, 58, 0.40, 3.00, 4.20, "建信理财", False),
    "WM0005": ("mixed", 50000, 1000, 365, 150, 0.50, 3.50, 5.50, "交银理财", False),
    "WM0006": ("equity", 100000, 10000, 730, 300, 1.00, 4.00, 8.00, "兴银理财", False),
    "FD0001": ("cash", 1, 0.01, None, None, 0, 1.50, 1.80, "易方达基金", True),
    "FD0002": ("fixed_income", 10, 10, None, None, 0.30, 2.00, 3.00, "博时基金", True),
    "FD0003": ("fixed_income", 10, 10, None, None, 0.60, 2.50, 3.50, "招商基金", True),
    "FD0004": ("mixed", 10, 10, None, None, 1.20, None, None, "富国基金", True),
    "FD0005": ("equity", 10, 10, None, None, 1.20, None, None, "华夏基金", True),
    "FD0006": ("mixed", 10, 10, None, None, 1.50, None, None, "中欧基金", True),
    "FD0007": ("equity", 10, 10, None, None, 1.50, None, None, "广发基金", True),
    "IN0001": ("insurance", 10000, 1000, 36500, None, 0, 2.50, 2.50, "中国人寿", False),
    "IN0002": ("insurance", 10000, 1000, 7300, None, 0, 2.50, 2.50, "平安养老", False),
    "IN0003": ("insurance", 3000, 100, 10950, None, 0, None, None, "太平洋人寿", False),
    "IN0004": ("insurance", 10000, 1000, 36500, None, 0, 2.00, 3.00, "泰康人寿", False),
    "IN0005": ("equity", 10000, 1000, 3650, None, 1.00, None, None, "新华保险", False),
    "BD0001": ("fixed_income", 100, 100, 1095, 380, 0, 2.38, 2.38, "财政部", True),
    "BD0002": ("fixed_income", 100, 100, 1825, 900, 0, 2.10, 2.10, "北京市财政局", True),
    "BD0003": ("fixed_income", 1000, 1000, 1095, 600, 0, 2.30, 2.30, "国家开发银行", True),
    "BD0004": ("fixed_income", 50000, 10000, 730, 200, 0.30, 3.00, 4.00, "本行资管部", False),
    "SD0001": ("cash", 50000, 1000, 91, 6, 0, 1.30, 2.80, "本行", False),
    "SD0002": ("alternatives", 50000, 1000, 182, 75, 0, 1.20, 3.10, "本行", False),
    "SD0003": ("alternatives", 1000000, 100000, 730, 500, 0, 0.00, 12.00, "中信证券", False),
}
FOREIGN = (  # code, name, category, risk, currency, asset class, min, step, maturity days, issuer
    ("FX0001", "美元结构性存款（三个月）", "structured", "R1", "USD", "cash", 10000, 1000, 33, "本行"),
    ("FX0002", "美元稳健收益理财", "wealth", "R2", "USD", "fixed_income", 5000, 1000, None,
     "中银理财"),
    ("FX0003", "恒生指数QDII基金（港元）", "fund", "R4", "HKD", "equity", 1000, 100, None,
     "华夏基金（香港）"),
)
RATES = {"USD": 7.1200, "HKD": 0.9130}
NAV_DAYS = 30
PRICED = ("wealth", "fund", "bond", "structured")


def _fen(yuan: float) -> int:
    return int(round(yuan * 100))


def _bp(pct: float | None) -> int | None:
    return None if pct is None else int(round(pct * 100))


def seed_catalogue(session: Session, today: date, seed: int = 7) -> dict[str, int]:
    """Fill the catalogue columns, add the foreign-currency shelf, write NAVs and rates,
    give some wealthy customers FX holdings, and revalue AUM."""
    rng = random.Random(seed * 15)
    products = {code: (pid, cat) for pid, code, cat in session.execute(
        select(Product.id, Product.code, Product.category))}
    for code, (ac, mn, step, term, mat, fee, lo, hi, issuer, early) in CATALOGUE.items():
        if code not in products:
            continue
        session.execute(update(Product).where(Product.code == code).values(
            asset_class=ac, min_amount_fen=_fen(mn), step_amount_fen=_fen(step), term_days=term,
            maturity_date=today + timedelta(days=mat) if mat is not None else None,
            fee_rate_bp=_bp(fee), expected_return_low_bp=_bp(lo), expected_return_high_bp=_bp(hi),
            issuer=issuer, early_redeemable=early, disclosure=_DISCLOSE[products[code][1]]))
    for code, name, cat, risk, cur, ac, mn, step, mat, issuer in FOREIGN:
        pid = session.execute(insert(Product).values(
            code=code, name=name, category=cat, risk_level=risk, currency=cur, active=True,
            asset_class=ac, min_amount_fen=_fen(mn), step_amount_fen=_fen(step),
            term_days=91 if mat else None,
            maturity_date=today + timedelta(days=mat) if mat else None, fee_rate_bp=0,
            issuer=issuer, early_redeemable=mat is None, disclosure=_DISCLOSE[cat])
        ).inserted_primary_key[0]  # type: ignore[index]
        products[code] = (pid, cat)
    prices = []
    for code, (pid, cat) in sorted(products.items()):
        if cat not in PRICED:
            continue
        vol = {"wealth": 0.0004, "bond": 0.0006, "structured": 0.0003, "fund": 0.008}[cat]
        if code in ("FD0001", "WM0001"):
            vol = 0.00005
        nav = 1.0 + rng.uniform(0.0, 0.05)
        for back in range(NAV_DAYS, -1, -1):
            nav = max(0.5, nav * (1 + rng.gauss(0.0002, vol)))
            prices.append({"product_id": pid, "price_date": today - timedelta(days=back),
                           "price_e6": int(round(nav, 4) * 1_000_000)})
    session.execute(insert(ProductPrice), prices)
    rates = [{"currency": cur, "rate_date": today - timedelta(days=back),
              "rate_e6": int(round(rate * (1 + rng.gauss(0, 0.001)), 4) * 1_000_000)}
             for cur, rate in RATES.items() for back in range(NAV_DAYS, -1, -1)]
    session.execute(insert(ExchangeRate), rates)
    wealthy = session.scalars(select(Customer.id).where(Customer.aum_fen >= 600_000_000)
                              .order_by(Customer.id)).all()
    fx = []
    for i, cid in enumerate(wealthy[::3]):
        code = FOREIGN[i % len(FOREIGN)][0]
        usd = rng.randint(2, 30) * 1000_00  # 2,000–30,000 in the foreign currency
        fx.append({"customer_id": cid, "product_id": products[code][0], "amount_fen": usd,
                   "units_e4": usd * 100, "currency": FOREIGN[i % len(FOREIGN)][4],
                   "updated_at": session.scalar(select(Customer.updated_at)
                                                .where(Customer.id == cid))})
    if fx:
        session.execute(insert(Holding), fx)
    revalued = refresh_aum(session, today)
    return {"prices": len(prices), "rates": len(rates), "fx_holdings": len(fx),
            "revalued": revalued}

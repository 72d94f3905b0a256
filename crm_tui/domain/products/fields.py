"""The catalogue's fields, declared once in the field registry: a product, a price row and
an exchange-rate row. Import headers (English, Chinese, aliases) come from these specs."""

from __future__ import annotations

from decimal import Decimal

from crm_tui.domain.kernel.fields import FieldSpec, register

ASSET_CLASSES = ("cash", "fixed_income", "mixed", "equity", "alternatives", "insurance")
CATEGORIES = ("deposit", "wealth", "fund", "insurance", "bond", "structured")
PRODUCT_RISKS = ("R1", "R2", "R3", "R4", "R5")
MAX_MONEY = Decimal("100000000000")  # 1,000 亿: fits BigInteger fen with room to spare
MAX_PRICE = Decimal("10000")  # NAV or price per unit; keeps valuation inside 64 bits
MAX_RATE = Decimal("100")  # CNY per unit of the currency

PRODUCT = "product"
PRICE = "product_price"
RATE = "exchange_rate"

_ALL = frozenset({"admin"})

register(PRODUCT, [
    FieldSpec("product_code", "field.product_code", "code", required=True, max_length=30,
              pattern=r"[A-Z0-9][A-Z0-9_\-.]*", aliases=("code", "产品代码", "产品编号"),
              editable_by=_ALL, export_column="code"),
    FieldSpec("product_name", "field.product_name", "text", required=True, max_length=200,
              aliases=("name", "产品名称", "名称"), editable_by=_ALL, export_column="name"),
    FieldSpec("category", "field.category", "choice", required=True, choices=CATEGORIES,
              choice_prefix="tui.product_category", aliases=("产品类别", "类别"),
              editable_by=_ALL, export_column="category"),
    FieldSpec("asset_class", "field.asset_class", "choice", required=True, choices=ASSET_CLASSES,
              choice_prefix="products.asset_class", aliases=("资产类别", "大类资产"),
              editable_by=_ALL, export_column="asset_class"),
    FieldSpec("product_risk", "field.product_risk", "choice", required=True,
              choices=PRODUCT_RISKS, aliases=("risk_level", "risk", "产品风险等级", "风险等级"),
              editable_by=_ALL, export_column="risk_level"),
    FieldSpec("currency", "field.currency", "code", pattern=r"[A-Z]{3}", max_length=3,
              aliases=("币种", "币别"), editable_by=_ALL, export_column="currency"),
    FieldSpec("min_amount", "field.min_amount", "money", max_value=MAX_MONEY,
              aliases=("起购金额", "起点金额"), editable_by=_ALL, export_column="min_amount"),
    FieldSpec("step_amount", "field.step_amount", "money", max_value=MAX_MONEY,
              aliases=("递增金额", "追加单位"), editable_by=_ALL, export_column="step_amount"),
    FieldSpec("term_days", "field.term_days", "number", min_value=Decimal(1),
              max_value=Decimal(36500), aliases=("期限", "期限天数", "产品期限"),
              editable_by=_ALL, export_column="term_days"),
    FieldSpec("maturity_date", "field.maturity_date", "date", aliases=("到期日", "到期日期"),
              editable_by=_ALL, export_column="maturity_date"),
    FieldSpec("fee_rate", "field.fee_rate", "decimal", min_value=Decimal(0),
              max_value=Decimal(100), aliases=("fee", "费率", "认购费率"), editable_by=_ALL,
              export_column="fee_rate"),
    FieldSpec("return_low", "field.return_low", "decimal", min_value=Decimal(-100),
              max_value=Decimal(100), aliases=("expected_return_low", "业绩比较基准下限",
                                               "预期收益下限"),
              editable_by=_ALL, export_column="return_low"),
    FieldSpec("return_high", "field.return_high", "decimal", min_value=Decimal(-100),
              max_value=Decimal(100), aliases=("expected_return_high", "业绩比较基准上限",
                                               "预期收益上限"),
              editable_by=_ALL, export_column="return_high"),
    FieldSpec("issuer", "field.issuer", "text", max_length=100,
              aliases=("发行机构", "管理人", "发行方"), editable_by=_ALL, export_column="issuer"),
    FieldSpec("early_redeemable", "field.early_redeemable", "bool",
              aliases=("可提前赎回", "提前赎回"), editable_by=_ALL,
              export_column="early_redeemable"),
    FieldSpec("disclosure", "field.disclosure", "long_text", max_length=4000,
              aliases=("风险揭示", "风险提示", "风险揭示书"), editable_by=_ALL,
              export_column="disclosure"),
])

register(PRICE, [
    FieldSpec("product_code", "field.product_code", "code", required=True, max_length=30,
              aliases=("code", "产品代码")),
    FieldSpec("price_date", "field.price_date", "date", required=True,
              aliases=("date", "日期", "净值日期")),
    FieldSpec("price", "field.price", "decimal", required=True, min_value=Decimal("0.000001"),
              max_value=MAX_PRICE, aliases=("nav", "价格", "净值", "单位净值")),
])

register(RATE, [
    FieldSpec("currency", "field.currency", "code", required=True, pattern=r"[A-Z]{3}",
              max_length=3, aliases=("币种",)),
    FieldSpec("rate_date", "field.rate_date", "date", required=True, aliases=("date", "日期")),
    FieldSpec("rate_to_cny", "field.rate_to_cny", "decimal", required=True,
              min_value=Decimal("0.000001"), max_value=MAX_RATE,
              aliases=("rate", "汇率", "折人民币汇率")),
])


def fields_of_product() -> tuple[FieldSpec, ...]:
    from crm_tui.domain.kernel.fields import fields_of

    return fields_of(PRODUCT)

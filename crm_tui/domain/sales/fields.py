"""The declared fields of leads, opportunities and the two questionnaires (the one field
registry: forms, `crm import leads` and the CLI read these, nobody keeps a list)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from crm_tui.domain.kernel.fields import FieldSpec, register
from crm_tui.domain.kernel.validation import BadValue, normalise_text, parse_date, parse_prc_id
from crm_tui.domain.policy.sales_policy import LEAD_SOURCES

_FRONT = frozenset({"rm", "supervisor", "branch_head"})
_SOURCE_ALIASES = {"活动": "campaign", "营销活动": "campaign", "官网": "web", "网站": "web",
                   "线上": "web", "推荐": "referral", "转介绍": "referral", "到店": "walk_in",
                   "临柜": "walk_in", "walk-in": "walk_in", "walkin": "walk_in"}
MAX_ASSETS = Decimal("100000000000")  # 1000亿: bounded to fit BIGINT fen


def parse_source(raw: Any) -> str:
    value = normalise_text(str(raw)).lower()
    value = _SOURCE_ALIASES.get(value, value)
    if value not in LEAD_SOURCES:
        raise BadValue("validation.choice", value=value)
    return value


def parse_moment(raw: Any) -> datetime:
    """An ISO time (with or without offset: Asia/Shanghai is assumed) or a date."""
    if isinstance(raw, datetime):
        value = raw
    else:
        text = normalise_text(str(raw))
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            day = parse_date(text)
            if day is None:
                raise BadValue("validation.date", value=text[:40]) from None
            value = datetime(day.year, day.month, day.day)
    if value.tzinfo is None:
        from zoneinfo import ZoneInfo

        value = value.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    return value.astimezone(UTC)


def _id(raw: Any) -> str:
    return parse_prc_id(str(raw))


LEAD_FIELDS = (
    FieldSpec("name", "field.name", "text", required=True, max_length=100,
              editable_by=_FRONT, aliases=("姓名", "客户姓名", "name")),
    FieldSpec("source", "field.source", "choice", required=True, choices=LEAD_SOURCES,
              choice_prefix="sales.source", editable_by=_FRONT, aliases=("来源", "渠道"),
              parser=parse_source),
    FieldSpec("phone", "field.phone", "phone", sensitive=True, editable_by=_FRONT,
              aliases=("手机", "手机号", "mobile")),
    FieldSpec("national_id", "field.national_id", "text", sensitive=True, editable_by=_FRONT,
              aliases=("身份证", "身份证号", "id_number"), parser=_id),
    FieldSpec("branch_code", "field.branch_code", "code", max_length=20,
              aliases=("网点", "网点代码", "branch")),
    FieldSpec("region", "field.region", "text", max_length=50, editable_by=_FRONT,
              aliases=("地区", "区域")),
    FieldSpec("estimated_assets", "field.estimated_assets", "money", min_value=Decimal(0),
              max_value=MAX_ASSETS, editable_by=_FRONT, aliases=("预估资产", "资产", "assets")),
    FieldSpec("product_interest", "field.product_interest", "text", max_length=30,
              editable_by=_FRONT, aliases=("意向产品", "产品兴趣", "interest")),
    FieldSpec("note", "field.note", "long_text", max_length=1000, editable_by=_FRONT,
              aliases=("备注",)),
    FieldSpec("created_at", "field.created_at", "text", aliases=("创建时间", "登记时间"),
              parser=parse_moment),
)

GOALS = ("preservation", "income", "growth", "education", "retirement", "other")
HORIZONS = ("lt1y", "1to3y", "3to5y", "gt5y")
LIQUIDITY = ("high", "medium", "low")

NEEDS_FIELDS = (
    FieldSpec("goals", "field.goals", "multi_choice", required=True, choices=GOALS,
              choice_prefix="sales.goal", editable_by=_FRONT),
    FieldSpec("horizon", "field.horizon", "choice", required=True, choices=HORIZONS,
              choice_prefix="sales.horizon", editable_by=_FRONT),
    FieldSpec("liquidity", "field.liquidity", "choice", required=True, choices=LIQUIDITY,
              choice_prefix="sales.liquidity", editable_by=_FRONT),
    FieldSpec("investable_funds", "field.investable_funds", "money", required=True,
              min_value=Decimal(0), max_value=MAX_ASSETS, editable_by=_FRONT),
    FieldSpec("existing_portfolio", "field.existing_portfolio", "long_text", max_length=1000,
              editable_by=_FRONT),
)

RISK_QUESTIONS = ("age", "experience", "horizon", "loss_tolerance", "income_stability",
                  "objective")
RISK_FIELDS = tuple(
    FieldSpec(q, f"field.{q}", "number", required=True, min_value=Decimal(1),
              max_value=Decimal(5), editable_by=_FRONT, help_key=f"sales.risk_help.{q}")
    for q in RISK_QUESTIONS)

OPPORTUNITY_FIELDS = (
    FieldSpec("product_code", "field.product_code", "code", required=True, max_length=30,
              editable_by=_FRONT),
    FieldSpec("amount", "field.amount", "money", required=True,
              min_value=Decimal("0.01"), max_value=MAX_ASSETS, editable_by=_FRONT),
)

register("lead", LEAD_FIELDS)
register("needs_questionnaire", NEEDS_FIELDS)
register("risk_questionnaire", RISK_FIELDS)
register("opportunity", OPPORTUNITY_FIELDS)

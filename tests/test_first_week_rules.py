"""Issue 8, money and text: the rules a first week at the branch ran into, in the domain."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from crm_tui.domain.compliance.sensitive_changes import request_change
from crm_tui.domain.customers import interactions, records
from crm_tui.domain.kernel.errors import Blocked, ValidationFailed
from crm_tui.domain.kernel.validation import (
    BadValue,
    normalise_code,
    normalise_prose,
    parse_amount,
    parse_date,
    parse_name,
)
from crm_tui.domain.sales.trade_checks import preview_transaction
from crm_tui.domain.sales.transactions import record_transaction
from crm_tui.store.models import Customer, Interaction
from crm_tui.store.models_compliance import ApprovalRequest, RiskAlert
from tests.compliance_world import build_book
from tests.helpers import make_customer


def _key(fn, *args, **kw) -> str:
    with pytest.raises(BadValue) as err:
        fn(*args, **kw)
    return err.value.key


def test_amount_rules() -> None:
    assert _key(parse_amount, "", required=True) == "validation.required"
    assert _key(parse_amount, "", allow_zero=False) == "validation.required"
    assert _key(parse_amount, "0", allow_zero=False) == "validation.amount_zero"
    assert _key(parse_amount, "-0", allow_zero=False) == "validation.amount_zero"
    assert parse_amount("-0") == Decimal("0.00")
    for bad in ("1e5", "1E5", "Infinity", "NaN", "١٢٣", "१२३", "1.2.3", "--5", "5-"):
        assert _key(parse_amount, bad) == "validation.amount", bad
    assert parse_amount("１２３．５０") == Decimal("123.50")  # full-width stays welcome
    assert _key(parse_amount, "99999999999999999999") == "validation.amount_max"
    assert _key(parse_amount, "-5") == "validation.amount_negative"


def test_prose_keeps_full_width_punctuation_codes_fold() -> None:
    assert normalise_prose(" 客户来电，核实无误。 ") == "客户来电，核实无误。"
    assert normalise_prose("a\u202eb\x00c") == "abc"
    assert normalise_code("１３８００１３８０００") == "13800138000"
    assert _key(normalise_prose, "长" * 11, max_length=10) == "validation.too_long"


def test_names_refuse_emoji_controls_and_bidi() -> None:
    assert parse_name("阿依古丽·买买提") == "阿依古丽·买买提"
    assert parse_name("John  Smith") == "John Smith"
    for bad in ("张😀", "张\u202e三", "张\x00三", "张3", "张\n三"):
        assert _key(parse_name, bad) == "validation.name_chars", repr(bad)
    assert parse_name("上海明远科技有限公司（有限合伙）", organisation=True)


def test_dates_between_1900_and_2100() -> None:
    assert _key(parse_date, "1899-12-31") == "validation.date_range"
    assert _key(parse_date, "2101-01-01") == "validation.date_range"
    assert _key(parse_date, date(1800, 1, 1)) == "validation.date_range"
    assert parse_date("2100-12-31") == date(2100, 12, 31)


def test_customer_forms_refuse_bad_names_and_overflowing_income(crm, world) -> None:
    with pytest.raises(ValidationFailed) as err:
        make_customer(crm, world["rm1"], "张😀")
    assert err.value.by_field().keys() == {"name"}
    cid = make_customer(crm, world["rm1"], "张三")
    for bad in ("99999999999999999999", "1e5"):
        with pytest.raises(ValidationFailed) as err:
            records.update_customer(crm, world["rm1"], cid, 1, {"annual_income": bad})
        assert "annual_income" in err.value.by_field()
    records.update_customer(crm, world["rm1"], cid, 1, {"address": "上海市，浦东新区"})
    with crm.db.read() as s:
        assert s.get(Customer, cid).address == "上海市，浦东新区"


def test_sensitive_change_needs_a_reason_kept_as_typed(crm, world) -> None:
    cid = make_customer(crm, world["rm1"], "张三")
    with pytest.raises(ValidationFailed) as err:
        request_change(crm, world["rm1"], cid, "phone", "13911112222", reason="  ")
    assert err.value.by_field().keys() == {"reason"}
    rid = request_change(crm, world["rm1"], cid, "phone", "13911112222", reason="客户来电，已核实")
    with crm.db.read() as s:
        assert s.get(ApprovalRequest, rid).payload["display"]["evidence"]["reason"] == "客户来电，已核实"


def test_interaction_summary_has_a_limit(crm, world) -> None:
    cid = make_customer(crm, world["rm1"], "张三")
    with pytest.raises(ValidationFailed) as err:
        interactions.log_interaction(crm, world["rm1"], cid, interactions.NewInteraction(
            channel="phone", subject="回访", summary="长" * 10_000))
    assert "summary" in err.value.by_field()
    interactions.log_interaction(crm, world["rm1"], cid, interactions.NewInteraction(
        channel="phone", subject="回访，确认", summary="客户满意，下周再约。"))
    with crm.db.read() as s:
        row = s.scalars(select(Interaction)).one()
        assert (row.subject, row.summary) == ("回访，确认", "客户满意，下周再约。")


def test_trade_amount_is_checked_when_asked(crm, world) -> None:
    book = build_book(crm, world)
    cid = book.customers["c1"]
    for amount, key in (("", "validation.required"), ("0", "validation.amount_zero"),
                        ("99999999999999999999", "validation.amount_max"),
                        ("2000000000", "validation.amount_policy_max")):
        with pytest.raises(ValidationFailed) as err:
            record_transaction(crm, world["rm1"], cid, "subscription", amount,
                               product_code="P-R3")
        assert err.value.errors[0].key == key, amount
    with crm.db.read() as s:
        assert s.scalar(select(func.count()).select_from(ApprovalRequest)) == 0


def test_preview_shows_every_refusal_submit_would_give(crm, world) -> None:
    book = build_book(crm, world)
    cid = book.customers["c2"]  # C1
    with crm.db.write() as s:
        s.add(RiskAlert(alert_key="t1", rule="cross_border_burst", kind="cross_border",
                        severity="high", freeze=True, customer_id=cid, details={}))
    preview = preview_transaction(crm, world["rm1"], cid, "subscription", "1000",
                                  product_code="P-R4")
    assert len(preview.refusals) == 2
    assert any("cross-border" in r for r in preview.refusals)
    assert any("C1" in r for r in preview.refusals)
    with pytest.raises(Blocked):
        record_transaction(crm, world["rm1"], cid, "subscription", "1000", product_code="P-R4")
    quiet = preview_transaction(crm, world["rm1"], book.customers["c1"], "subscription", "",
                                product_code="P-R3")
    assert quiet.refusals == ()

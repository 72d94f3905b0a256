"""Field parsers: what branch staff actually type and what spreadsheets actually hold."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_tui.domain.customers.fields import clean_customer, name_pinyin
from crm_tui.domain.kernel.masking import mask_bank_account, mask_national_id, mask_phone
from crm_tui.domain.kernel.validation import (
    BadValue,
    id_check_digit,
    parse_amount,
    parse_date,
    parse_mobile,
    parse_prc_id,
)
from tests.conftest import valid_id


def test_prc_id_checksum_and_birth_date() -> None:
    good = valid_id("11010119900307123")
    assert parse_prc_id(good) == good
    assert parse_prc_id(" " + good.lower() + " ") == good.upper()
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(BadValue) as e:
        parse_prc_id(wrong)
    assert e.value.key == "validation.id_checksum"
    with pytest.raises(BadValue) as e:
        parse_prc_id(good[:17])
    assert e.value.key == "validation.id_format"
    with pytest.raises(BadValue) as e:
        parse_prc_id(valid_id("11010119900230123"))  # 30 February
    assert e.value.key == "validation.id_birth"
    with pytest.raises(BadValue) as e:
        parse_prc_id(valid_id("11010129900101123"), today=date(2026, 1, 1))  # born in 2990
    assert e.value.key == "validation.id_birth"


def test_full_width_digits_are_normalised() -> None:
    good = valid_id("11010119900307123")
    full = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in good)
    assert parse_prc_id(full) == good
    assert parse_mobile("１３８ １２３４ ５６７８") == "13812345678"
    assert parse_mobile("+86 138-1234-5678") == "13812345678"
    with pytest.raises(BadValue):
        parse_mobile("1381234567")
    with pytest.raises(BadValue):
        parse_mobile("12812345678")


@pytest.mark.parametrize("raw", ["2024-03-05", "2024/3/5", "2024.03.05", "20240305",
                                 "2024年3月5日", datetime(2024, 3, 5, 0, 0)])
def test_dates_in_common_formats(raw) -> None:
    assert parse_date(raw) == date(2024, 3, 5)


def test_wrong_date_names_the_value() -> None:
    with pytest.raises(BadValue) as e:
        parse_date("2024-13-45")
    assert e.value.key == "validation.date" and e.value.params["value"] == "2024-13-45"


def test_amounts() -> None:
    assert parse_amount("1,234,567.00") == Decimal("1234567.00")
    assert parse_amount("￥1,000") == Decimal("1000.00")
    assert parse_amount("２５００元") == Decimal("2500.00")
    assert parse_amount(1234.5) == Decimal("1234.50")
    for bad, key in (("-5", "validation.amount_negative"), ("abc", "validation.amount"),
                     ("1.234", "validation.amount_precision"), ("NaN", "validation.amount")):
        with pytest.raises(BadValue) as e:
            parse_amount(bad)
        assert e.value.key == key


@given(st.integers(min_value=0, max_value=10**15 - 1))
def test_amount_round_trip_is_exact(fen: int) -> None:
    from crm_tui.domain.kernel.validation import from_fen, to_fen

    assert to_fen(from_fen(fen)) == fen
    assert to_fen(parse_amount(f"{fen / 100:,.2f}" if fen < 10**13 else str(from_fen(fen)))) == fen


@given(st.from_regex(r"\A[1-6][0-9]{5}(19[0-9]{2}|200[0-9])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}\Z"))
def test_any_well_formed_id_with_its_check_digit_parses(first17: str) -> None:
    assert parse_prc_id(first17 + id_check_digit(first17)) == first17 + id_check_digit(first17)


def test_masks() -> None:
    assert mask_national_id("110101199003071234") == "110***********1234"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_bank_account("6222021234567890") == "************7890"
    assert mask_national_id(None) == ""


def test_pinyin_columns() -> None:
    assert name_pinyin("张三") == ("zhangsan", "zs")
    assert name_pinyin("欧阳娜娜")[1] == "oynn"


def test_clean_customer_reports_every_bad_field_with_its_row() -> None:
    clean, errors = clean_customer(
        {"name": "", "national_id": "123", "phone": "555", "birth_date": "soon",
         "aum": "-1"}, row=7)
    assert clean is None
    fields = {e.field for e in errors}
    assert fields == {"name", "national_id", "phone", "birth_date", "aum"}
    assert all(e.row == 7 for e in errors)
    assert errors[0].line().startswith("row 7: ")


def test_clean_customer_derives_birth_and_gender_from_id() -> None:
    good = valid_id("11010119900307123")
    clean, errors = clean_customer({"name": "张三", "national_id": good, "风险": "",
                                    "risk_level": "稳健型"})
    assert not errors and clean is not None
    assert clean.birth_date == date(1990, 3, 7)
    assert clean.gender == "M"
    assert clean.risk_level == "C2"
    _, errors = clean_customer({"name": "张三", "national_id": good, "birth_date": "1991-01-01"})
    assert [e.key for e in errors] == ["validation.birth_mismatch"]

"""Field parsers for input from people and files: PRC IDs, mobiles, dates, amounts.

Each returns the normalised value or raises `BadValue(key, **params)`; callers turn that
into a FieldError naming the row and the field.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any


class BadValue(ValueError):
    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def normalise_text(value: str | None) -> str:
    """NFKC folds full-width digits and letters (１３８ → 138) and trims."""
    if not value:
        return ""
    if value.isascii():  # ASCII is already NFKC: skip the table look-ups (bulk imports)
        return value.strip()
    return unicodedata.normalize("NFKC", value).strip()


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def parse_prc_id(raw: str | None, *, today: date | None = None) -> str:
    """An 18-digit resident ID: digits, a real birth date not in the future, checksum."""
    value = normalise_text(raw).upper().replace(" ", "")
    if not value:
        raise BadValue("validation.required")
    if not re.fullmatch(r"\d{17}[\dX]", value):
        raise BadValue("validation.id_format")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise BadValue("validation.id_birth", value=value[6:14]) from exc
    if born > (today or date.today()) or born.year < 1900:
        raise BadValue("validation.id_birth", value=value[6:14])
    if id_check_digit(value[:17]) != value[17]:
        raise BadValue("validation.id_checksum")
    return value


def birth_date_from_id(national_id: str) -> date:
    return date(int(national_id[6:10]), int(national_id[10:12]), int(national_id[12:14]))


def gender_from_id(national_id: str) -> str:
    return "M" if int(national_id[16]) % 2 else "F"


def parse_mobile(raw: str | None) -> str:
    """An 11-digit mainland mobile; tolerates +86, spaces and dashes."""
    value = re.sub(r"[\s\-()]", "", normalise_text(raw))
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    if not value:
        raise BadValue("validation.required")
    if not re.fullmatch(r"1[3-9]\d{9}", value):
        raise BadValue("validation.mobile")
    return value


def parse_email(raw: str | None) -> str:
    value = normalise_text(raw)
    if value and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise BadValue("validation.email")
    return value


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日", "%d/%m/%Y")
# Year-first dates, with one separator used twice or none: read without strptime, which
# costs ~20x more and an import parses a date on every row.
_YMD = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})|(\d{4})(\d{2})(\d{2})")


def parse_date(raw: str | date | datetime | None, *, required: bool = False) -> date | None:
    """ISO, slashes, dots, compact, 年月日; Excel cells arrive as datetime already."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    value = normalise_text(raw)
    if not value:
        if required:
            raise BadValue("validation.required")
        return None
    value = value.replace(" 00:00:00", "")
    fast = _YMD.fullmatch(value)
    if fast:
        y, _, m, d, cy, cm, cd = fast.groups()
        try:
            return date(int(y or cy), int(m or cm), int(d or cd))
        except ValueError:
            raise BadValue("validation.date", value=value) from None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise BadValue("validation.date", value=value)


def parse_amount(raw: str | int | float | Decimal | None, *, allow_zero: bool = True) -> Decimal:
    """`1,234,567.00`, `￥1234`, `1234.5元`, Excel numbers → Decimal with 2 places; ≥ 0."""
    if raw is None or (isinstance(raw, str) and not normalise_text(raw)):
        return Decimal("0.00")
    if isinstance(raw, float):
        raw = repr(raw)
    value = normalise_text(str(raw)).replace(",", "").replace("¥", "").replace("元", "")
    value = value.replace("￥", "").replace("RMB", "").replace("CNY", "").strip()
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise BadValue("validation.amount", value=str(raw)) from exc
    if not amount.is_finite():
        raise BadValue("validation.amount", value=str(raw))
    if amount < 0 or (amount == 0 and not allow_zero):
        raise BadValue("validation.amount_negative", value=str(raw))
    if amount != amount.quantize(Decimal("0.01")):
        raise BadValue("validation.amount_precision", value=str(raw))
    return amount.quantize(Decimal("0.01"))


def to_fen(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def from_fen(fen: int | None) -> Decimal:
    return (Decimal(fen or 0) / 100).quantize(Decimal("0.01"))


def parse_risk_level(raw: str | None) -> str | None:
    value = normalise_text(raw).upper()
    if not value:
        return None
    aliases = {"保守型": "C1", "稳健型": "C2", "平衡型": "C3", "成长型": "C4", "进取型": "C5"}
    value = aliases.get(value, value)
    if value not in ("C1", "C2", "C3", "C4", "C5"):
        raise BadValue("validation.risk_level", value=value)
    return value


def parse_gender(raw: str | None) -> str:
    value = normalise_text(raw).upper()
    mapping = {"男": "M", "M": "M", "MALE": "M", "女": "F", "F": "F", "FEMALE": "F", "": ""}
    if value not in mapping:
        raise BadValue("validation.gender", value=value)
    return mapping[value]


def parse_bank_account(raw: str | None) -> str:
    value = re.sub(r"\s", "", normalise_text(raw))
    if value and not re.fullmatch(r"\d{12,19}", value):
        raise BadValue("validation.bank_account")
    return value

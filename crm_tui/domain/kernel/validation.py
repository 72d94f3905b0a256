"""Field parsers for input from people and files: PRC IDs, mobiles, dates, amounts.

Each returns the normalised value or raises `BadValue(key, **params)`; callers turn that
into a FieldError naming the row and the field.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Any


class BadValue(ValueError):
    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def normalise_code(value: str | None) -> str:
    """Codes, IDs, phone numbers, amounts: NFKC folds full-width digits and letters
    (１３８ → 138) and trims. Never use this on prose: it turns "，" into ","."""
    if not value:
        return ""
    if value.isascii():  # ASCII is already NFKC: skip the table look-ups (bulk imports)
        return value.strip()
    return unicodedata.normalize("NFKC", value).strip()


normalise_text = normalise_code
"""The old name, kept for codes: callers with prose use `normalise_prose`."""

# Characters that never belong in text a person typed: C0/C1 controls other than tab and
# newline, and the bidi embeddings/overrides/isolates that reorder what a reader sees.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def normalise_prose(value: str | None, *, max_length: int | None = None) -> str:
    """Reasons, comments, summaries, addresses: trimmed, control and bidi-override
    characters removed, otherwise exactly as typed (full-width "，" survives).
    With `max_length`, longer text is refused (`validation.too_long`), never cut."""
    if not value:
        return ""
    text = _CONTROL.sub("", value).strip()
    if max_length is not None and len(text) > max_length:
        raise BadValue("validation.too_long", max=max_length)
    return text


def require_reason(value: str | None, *, min_length: int = 2, max_length: int = 400) -> str:
    """A stated reason for a sensitive act: prose, at least `min_length` characters."""
    text = normalise_prose(value, max_length=max_length)
    if len(text) < min_length:
        raise BadValue("validation.reason_empty")
    return text


# A person's or an organisation's name: CJK ideographs, Latin letters (with accents), the
# middle dot of transcribed names (·, ・, ‧) and single spaces; nothing else.
_NAME = re.compile(
    "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u00b7\u30fb\u2027 ]+")
# An organisation's registered name may also hold digits, brackets, & . - (（有限合伙）).
_ORG_NAME = re.compile(_NAME.pattern[:-2] + "0-9\uff10-\uff19()\uff08\uff09&.\\-]+")


def parse_name(raw: str | None, *, max_length: int = 100, required: bool = True,
               organisation: bool = False) -> str:
    """A name as typed (no NFKC), runs of spaces folded; emoji, digits, controls and bidi
    overrides refused with `validation.name_chars`."""
    value = re.sub(r"[ \u3000]+", " ", (raw or "").replace("\t", " ")).strip()
    if not value:
        if required:
            raise BadValue("validation.required")
        return ""
    if len(value) > max_length:
        raise BadValue("validation.too_long", max=max_length)
    if not (_ORG_NAME if organisation else _NAME).fullmatch(value):
        raise BadValue("validation.name_chars")
    return value


def parse_code(raw: str | None, *, max_length: int = 50, required: bool = False) -> str:
    """A code (branch, region, product): NFKC, upper-case letters, digits, `-`, `_`, `.`."""
    value = normalise_code(raw).upper()
    if not value:
        if required:
            raise BadValue("validation.required")
        return ""
    if len(value) > max_length:
        raise BadValue("validation.too_long", max=max_length)
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9._\-]*", value):
        raise BadValue("validation.code_chars", value=value[:40])
    return value


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


MIN_YEAR, MAX_YEAR = 1900, 2100


def _in_range(value: date, shown: str) -> date:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise BadValue("validation.date_range", value=shown, min=MIN_YEAR, max=MAX_YEAR)
    return value


def parse_date(raw: str | date | datetime | None, *, required: bool = False) -> date | None:
    """ISO, slashes, dots, compact, 年月日; Excel cells arrive as datetime already.
    Years outside 1900–2100 are refused (`validation.date_range`)."""
    if isinstance(raw, datetime):
        return _in_range(raw.date(), raw.date().isoformat())
    if isinstance(raw, date):
        return _in_range(raw, raw.isoformat())
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
            parsed = date(int(y or cy), int(m or cm), int(d or cd))
        except ValueError:
            raise BadValue("validation.date", value=value) from None
        return _in_range(parsed, value)
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(value, fmt).date()
        except ValueError:
            continue
        return _in_range(parsed, value)
    raise BadValue("validation.date", value=value)


MAX_AMOUNT = Decimal("9999999999999.99")
"""The largest amount anywhere (just under 10万亿 yuan): 10**15 fen, so ~9,000 of them
still sum inside a BIGINT fen column. Trades are also capped by the policy."""

_AMOUNT = re.compile(r"\d+(\.\d{1,})?|\.\d+")
_FULL_WIDTH_DIGITS = frozenset("０１２３４５６７８９")


def parse_amount(raw: str | int | float | Decimal | None, *, allow_zero: bool = True,
                 required: bool = False, max_value: Decimal = MAX_AMOUNT) -> Decimal:
    """`1,234,567.00`, `￥1234`, `1234.5元`, Excel numbers → Decimal with 2 places; ≥ 0.

    Blank is 0.00 unless `required` (or zero is not allowed, then blank is missing, not
    zero). Zero has its own message (`validation.amount_zero`); `-0` is zero, not negative.
    Scientific notation (`1e5`), NaN/Infinity and digits of other scripts than ASCII and
    full-width are refused; above `max_value` is `validation.amount_max`."""
    blank = raw is None or (isinstance(raw, str) and not raw.strip())
    if blank:
        if required or not allow_zero:
            raise BadValue("validation.required")
        return Decimal("0.00")
    if isinstance(raw, bool):
        raise BadValue("validation.amount", value=str(raw))
    if isinstance(raw, float):
        raw = repr(raw)
    shown = str(raw).strip()[:40]
    if isinstance(raw, Decimal | int):
        amount = Decimal(raw)
        if not amount.is_finite():
            raise BadValue("validation.amount", value=shown)
    else:
        text = str(raw)
        if any(unicodedata.category(ch) == "Nd" and not ch.isascii()
               and ch not in _FULL_WIDTH_DIGITS for ch in text):
            raise BadValue("validation.amount", value=shown)
        value = normalise_code(text).replace(",", "").replace("¥", "").replace("元", "")
        value = value.replace("￥", "").replace("RMB", "").replace("CNY", "").strip()
        negative = value.startswith("-")
        digits = value[1:].strip() if negative or value.startswith("+") else value
        if not _AMOUNT.fullmatch(digits):
            raise BadValue("validation.amount", value=shown)
        amount = Decimal(digits)
        if negative:
            amount = -amount
    if amount == 0:
        if not allow_zero:
            raise BadValue("validation.amount_zero")
        return Decimal("0.00")
    if amount < 0:
        raise BadValue("validation.amount_negative", value=shown)
    if amount != amount.quantize(Decimal("0.01")):
        raise BadValue("validation.amount_precision", value=shown)
    if amount > max_value:
        raise BadValue("validation.amount_max", max=f"{max_value:,.2f}")
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

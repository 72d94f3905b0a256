"""Turning raw customer fields (a form, a CSV row) into a stored row, with field errors.

Shared by the TUI form, `crm import customers` and the demo seeder, so every path applies
the same checks and the same encryption.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PHRASES_DICT, PINYIN_DICT

from crm_tui.domain.kernel.errors import FieldError
from crm_tui.domain.kernel.validation import (
    BadValue,
    birth_date_from_id,
    gender_from_id,
    normalise_prose,
    normalise_text,
    parse_amount,
    parse_bank_account,
    parse_date,
    parse_email,
    parse_gender,
    parse_mobile,
    parse_name,
    parse_prc_id,
    parse_risk_level,
    to_fen,
)
from crm_tui.store.crypto import Keyring

ID_TYPES = ("resident_id", "passport", "hk_macau_permit", "taiwan_permit", "business_license")
SENSITIVE_FIELDS = ("national_id", "phone", "bank_account")


@lru_cache(maxsize=1 << 16)
def name_pinyin(name: str) -> tuple[str, str]:
    """Full pinyin and initials, lower case, no spaces: 张三 → ('zhangsan', 'zs').

    Cached per name, and built from per-character readings when no part of the name is a
    pypinyin phrase (the common case), which gives the same answer as converting the whole
    name at a fraction of the cost (imports convert hundreds of thousands of names).
    """
    if name and all(ord(c) in PINYIN_DICT for c in name) and not _has_phrase(name):
        parts = [_char_pinyin(c) for c in name]
        return "".join(p[0] for p in parts), "".join(p[1] for p in parts)
    full = "".join(lazy_pinyin(name, errors="ignore")).lower()
    initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower()
    return full, initials


def _has_phrase(name: str) -> bool:
    n = len(name)
    return any(name[i:j] in PHRASES_DICT for i in range(n) for j in range(i + 2, n + 1))


@lru_cache(maxsize=1 << 15)
def _char_pinyin(char: str) -> tuple[str, str]:
    return ("".join(lazy_pinyin(char, errors="ignore")).lower(),
            "".join(lazy_pinyin(char, style=Style.FIRST_LETTER, errors="ignore")).lower())


@dataclass
class CleanCustomer:
    name: str
    kind: str = "individual"
    id_type: str = "resident_id"
    national_id: str | None = None
    phone: str | None = None
    bank_account: str | None = None
    email: str = ""
    birth_date: date | None = None
    gender: str = ""
    address: str = ""
    occupation: str = ""
    risk_level: str | None = None
    aum: Decimal = Decimal("0.00")
    annual_income: Decimal = Decimal("0.00")
    branch_code: str | None = None
    rm_username: str | None = None


def clean_customer(raw: dict[str, Any], row: int | None = None,
                   today: date | None = None) -> tuple[CleanCustomer | None, list[FieldError]]:
    """Validate every field; return all the problems at once, not the first."""
    errors: list[FieldError] = []
    out: dict[str, Any] = {}

    def take(field: str, fn: Any, *args: Any, **kw: Any) -> Any:
        try:
            return fn(*args, **kw)
        except BadValue as exc:
            errors.append(FieldError(field, exc.key, exc.params, row))
            return None

    kind = normalise_text(raw.get("kind")) or "individual"
    kind = {"个人": "individual", "机构": "institutional", "企业": "institutional"}.get(kind, kind)
    out["name"] = take("name", parse_name, raw.get("name"), max_length=200,
                       organisation=kind == "institutional") or ""
    if kind not in ("individual", "institutional"):
        errors.append(FieldError("kind", "validation.choice", {"value": kind}, row))
    out["kind"] = kind
    id_type = normalise_text(raw.get("id_type")) or "resident_id"
    id_type = {"身份证": "resident_id", "居民身份证": "resident_id", "护照": "passport",
               "港澳通行证": "hk_macau_permit", "台胞证": "taiwan_permit",
               "营业执照": "business_license"}.get(id_type, id_type)
    if id_type not in ID_TYPES:
        errors.append(FieldError("id_type", "validation.choice", {"value": id_type}, row))
    out["id_type"] = id_type
    raw_id = raw.get("national_id")
    if id_type == "resident_id":
        out["national_id"] = take("national_id", parse_prc_id, raw_id, today=today)
    else:
        value = normalise_text(raw_id).upper()
        if not value:
            errors.append(FieldError("national_id", "validation.required", {}, row))
        out["national_id"] = value or None
    phone_raw = normalise_text(raw.get("phone"))
    out["phone"] = take("phone", parse_mobile, phone_raw) if phone_raw else None
    out["bank_account"] = take("bank_account", parse_bank_account, raw.get("bank_account")) or None
    out["email"] = take("email", parse_email, raw.get("email")) or ""
    out["birth_date"] = take("birth_date", parse_date, raw.get("birth_date"))
    out["gender"] = take("gender", parse_gender, raw.get("gender")) or ""
    if id_type == "resident_id" and out.get("national_id"):
        from_id = birth_date_from_id(out["national_id"])
        if out["birth_date"] is None:
            out["birth_date"] = from_id
        elif out["birth_date"] != from_id:
            errors.append(FieldError("birth_date", "validation.birth_mismatch", {}, row))
        if not out["gender"]:
            out["gender"] = gender_from_id(out["national_id"])
    out["address"] = take("address", normalise_prose, raw.get("address"), max_length=400) or ""
    out["occupation"] = take("occupation", normalise_prose, raw.get("occupation"),
                             max_length=100) or ""
    out["risk_level"] = take("risk_level", parse_risk_level, raw.get("risk_level"))
    out["aum"] = take("aum", parse_amount, raw.get("aum")) or Decimal("0.00")
    out["annual_income"] = (
        take("annual_income", parse_amount, raw.get("annual_income")) or Decimal("0.00")
    )
    out["branch_code"] = normalise_text(raw.get("branch_code")) or None
    out["rm_username"] = normalise_text(raw.get("rm_username")) or None
    if errors:
        return None, errors
    return CleanCustomer(**out), []


def encrypted_columns(keys: Keyring, c: CleanCustomer) -> dict[str, Any]:
    """Ciphertext and blind indexes for the sensitive fields; never the plaintext."""
    return {
        "national_id_enc": keys.encrypt("national_id", c.national_id),
        "national_id_bidx": keys.blind_index("national_id", c.national_id),
        "phone_enc": keys.encrypt("phone", c.phone),
        "phone_bidx": keys.blind_index("phone", c.phone),
        "phone_last4": c.phone[-4:] if c.phone else None,
        "bank_account_enc": keys.encrypt("bank_account", c.bank_account),
        "bank_account_bidx": keys.blind_index("bank_account", c.bank_account),
    }


def customer_row(keys: Keyring, c: CleanCustomer, *, branch_id: int | None,
                 rm_id: int | None) -> dict[str, Any]:
    """A dict ready for a Core insert into `customer` (bulk paths) or `Customer(**row)`."""
    full, initials = name_pinyin(c.name)
    row: dict[str, Any] = {
        "kind": c.kind,
        "name": c.name,
        "name_pinyin": full,
        "name_initials": initials,
        "id_type": c.id_type,
        "email": c.email,
        "birth_date": c.birth_date,
        "gender": c.gender,
        "address": c.address,
        "occupation": c.occupation,
        "annual_income_fen": to_fen(c.annual_income),
        "goals": "",
        "risk_level": c.risk_level,
        "aum_fen": to_fen(c.aum),
        "branch_id": branch_id,
        "rm_id": rm_id,
        "status": "active",
        "version": 1,
    }
    row.update(encrypted_columns(keys, c))
    return row

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
from sqlalchemy import ColumnElement

from crm_tui.domain.kernel import fields as F
from crm_tui.domain.kernel.errors import FieldError
from crm_tui.domain.kernel.fields import FieldSpec
from crm_tui.domain.kernel.permissions import MATRIX, Perm
from crm_tui.domain.kernel.validation import (
    BadValue,
    birth_date_from_id,
    gender_from_id,
    normalise_text,
    parse_bank_account,
    parse_gender,
    parse_name,
    parse_prc_id,
    parse_risk_level,
    to_fen,
)
from crm_tui.store.crypto import Keyring
from crm_tui.store.models import Customer

ENTITY = "customer"
ID_TYPES = ("resident_id", "passport", "hk_macau_permit", "taiwan_permit", "business_license")
CUSTOMER_KINDS = ("individual", "institutional")
STATUSES = ("active", "dormant", "frozen")
RISK_LEVELS = ("C1", "C2", "C3", "C4", "C5")
MAX_AMOUNT = Decimal("9999999999999.99")  # 10^15 fen: far inside a BIGINT, beyond any book
_EDITORS = frozenset(role.value for role, perms in MATRIX.items() if Perm.CUSTOMER_EDIT in perms)

# Every built-in customer field, once, in form order. The label is the catalog key; the
# aliases are the other headers branch files use (the labels in every language are added by
# `import_aliases`). Sensitive fields are stored encrypted as `<key>_enc` (+ `_bidx`), money as
# `<key>_fen`; `needs_approval` fields change only through maker-checker.
CUSTOMER_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("id", "export.col.id", type="number", importable=False, export_column="id"),
    FieldSpec("name", "field.name", required=True, max_length=200, needs_approval=True,
              parser=lambda raw: parse_name(raw, max_length=200, organisation=True),
              aliases=("customer name", "full name", "姓名", "客户姓名", "客户名称", "名称"),
              export_column="name"),
    FieldSpec("kind", "field.kind", type="choice", choices=CUSTOMER_KINDS,
              choice_prefix="customer_kind", default="individual",
              value_aliases=(("个人", "individual"), ("机构", "institutional"),
                             ("企业", "institutional")),
              aliases=("customer type", "type", "客户类型", "客户类别"), export_column="kind"),
    FieldSpec("id_type", "field.id_type", type="choice", choices=ID_TYPES,
              choice_prefix="tui.id_type", default="resident_id",
              value_aliases=(("身份证", "resident_id"), ("居民身份证", "resident_id"),
                             ("护照", "passport"), ("港澳通行证", "hk_macau_permit"),
                             ("台胞证", "taiwan_permit"), ("营业执照", "business_license")),
              aliases=("id type", "document type", "证件类型", "证件种类"),
              export_column="id_type"),
    FieldSpec("national_id", "field.national_id", type="code", required=True, max_length=40,
              sensitive=True, needs_approval=True,
              aliases=("national id", "id number", "id no", "national id number", "证件号码",
                       "证件号", "身份证号", "身份证号码"), export_column="national_id"),
    FieldSpec("phone", "field.phone", type="phone", sensitive=True, needs_approval=True,
              aliases=("mobile", "mobile phone", "phone number", "手机号", "手机号码", "手机",
                       "联系电话"), export_column="phone"),
    FieldSpec("bank_account", "field.bank_account", parser=parse_bank_account, sensitive=True,
              needs_approval=True,
              aliases=("bank account", "account", "account number", "银行账号", "银行卡号", "账号"),
              export_column="bank_account"),
    FieldSpec("email", "field.email", type="email", max_length=200, default="",
              editable_by=_EDITORS, aliases=("e-mail", "mail", "邮箱", "电子邮箱", "电子邮件"),
              export_column="email"),
    FieldSpec("birth_date", "field.birth_date", type="date",
              aliases=("birth date", "date of birth", "dob", "birthday", "出生日期", "生日"),
              export_column="birth_date"),
    FieldSpec("gender", "field.gender", parser=parse_gender, choices=("M", "F"),
              choice_prefix="gender", default="", aliases=("sex", "性别"),
              export_column="gender"),
    FieldSpec("address", "field.address", max_length=400, default="", editable_by=_EDITORS,
              aliases=("地址", "联系地址", "住址"), export_column="address"),
    FieldSpec("occupation", "field.occupation", max_length=100, default="", editable_by=_EDITORS,
              aliases=("job", "职业"), export_column="occupation"),
    FieldSpec("risk_level", "field.risk_level", parser=parse_risk_level, choices=RISK_LEVELS,
              choice_prefix="risk",
              needs_approval=True, aliases=("risk level", "risk", "风险等级", "风险承受能力",
                                            "风险评级"), export_column="risk_level"),
    FieldSpec("aum", "field.aum", type="money", max_value=MAX_AMOUNT, default=Decimal("0.00"),
              aliases=("assets", "assets under management", "资产规模", "资产", "管理资产"),
              export_column="aum"),
    FieldSpec("annual_income", "field.annual_income", type="money", max_value=MAX_AMOUNT,
              default=Decimal("0.00"), editable_by=_EDITORS,
              aliases=("annual income", "income", "年收入"), export_column="annual_income"),
    FieldSpec("goals", "field.goals", type="long_text", max_length=1000, default="",
              editable_by=_EDITORS, importable=False),
    FieldSpec("branch_code", "field.branch_code", max_length=20,
              aliases=("branch", "branch code", "所属网点", "网点", "网点代码", "网点编号"),
              export_column="branch_code"),
    FieldSpec("rm_username", "field.rm_username", max_length=50,
              aliases=("rm", "rm username", "relationship manager", "客户经理", "客户经理账号",
                       "客户经理工号"), export_column="rm_username"),
    FieldSpec("status", "export.col.status", type="choice", choices=STATUSES,
              choice_prefix="tui.customer_status", importable=False, export_column="status"),
    FieldSpec("created_at", "export.col.created_at", type="datetime", importable=False,
              export_column="created_at"),
)
F.register(ENTITY, CUSTOMER_FIELDS)

SENSITIVE_FIELDS = tuple(s.key for s in CUSTOMER_FIELDS if s.sensitive)
"""Encrypted at rest, masked on screen and in exports, shown only by an audited reveal."""
APPROVAL_FIELDS = tuple(s.key for s in CUSTOMER_FIELDS if s.needs_approval)
"""Fields a change of which goes through maker-checker (the policy may narrow the list)."""
EDITABLE_FIELDS = tuple(s.key for s in CUSTOMER_FIELDS if s.editable_by and not s.needs_approval)
IMPORT_FIELDS = tuple(s.key for s in CUSTOMER_FIELDS if s.importable)
EXPORT_FIELDS = tuple(s for s in CUSTOMER_FIELDS if s.export_column)


def customer_field(key: str) -> FieldSpec:
    return F.spec(ENTITY, key)


def import_aliases() -> dict[str, tuple[str, ...]]:
    """Each importable field → the headers people use for it: its key (also spelt with
    spaces), its aliases and its label in every catalog language."""
    from crm_tui.domain.kernel.errors import catalog_labels

    return {s.key: (s.key, s.key.replace("_", " "), *s.aliases, *catalog_labels(s.label_key))
            for s in CUSTOMER_FIELDS if s.importable}


def parse_national_id(raw: Any, id_type: str | None, *, today: date | None = None) -> str:
    """A resident ID is checked in full (format, birth date, check digit); other documents
    only need to be there."""
    if id_type == "resident_id":
        return parse_prc_id(raw, today=today)
    value = normalise_text(raw).upper()
    if not value:
        raise BadValue("validation.required")
    limit = customer_field("national_id").max_length or 40
    if len(value) > limit:
        raise BadValue("validation.too_long", max=limit)
    return value


def parse_approval_value(field: str, raw: str | None, id_type: str) -> str:
    """The normalised new value of a maker-checker field (never blank), or BadValue."""
    spec = F.find(ENTITY, field)
    if spec is None or not spec.needs_approval:
        raise BadValue("validation.not_editable")
    if field == "national_id":
        return parse_national_id(raw, id_type)
    value = spec.parse(raw)
    if not value:
        raise BadValue("validation.required")
    return str(value)


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
    """Validate every importable field by its registry declaration, then the rules across
    fields (the ID's birth date and gender); return all the problems at once, not the first."""
    keys = [k for k in IMPORT_FIELDS if k != "national_id"]
    out, errors = F.clean(ENTITY, raw, only=keys, row=row)
    if out.get("name") and out.get("kind", "individual") != "institutional":
        try:  # a person's name: CJK, Latin letters, the middle dot and spaces only
            parse_name(out["name"], max_length=200)
        except BadValue as exc:
            errors.append(FieldError("name", exc.key, exc.params, row))
    id_type = out.get("id_type") or normalise_text(raw.get("id_type")) or None
    try:
        out["national_id"] = parse_national_id(raw.get("national_id"), id_type, today=today)
    except BadValue as exc:
        errors.append(FieldError("national_id", exc.key, exc.params, row))
        out["national_id"] = None
    if id_type == "resident_id" and out.get("national_id"):
        from_id = birth_date_from_id(out["national_id"])
        if out.get("birth_date") is None:
            out["birth_date"] = from_id
        elif out["birth_date"] != from_id:
            errors.append(FieldError("birth_date", "validation.birth_mismatch", {}, row))
        if not out.get("gender"):
            out["gender"] = gender_from_id(out["national_id"])
    if errors:
        errors.sort(key=lambda e: IMPORT_FIELDS.index(e.field) if e.field in IMPORT_FIELDS else 99)
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


def stored_index_matches(keys: Keyring, field: str, value: str) -> ColumnElement[bool]:
    """`customer.<field>_bidx` holds `value` under any loaded key: while a rotation is
    unfinished a row may still carry the old key's index, so a look-up tries them all."""
    column = getattr(Customer, f"{field}_bidx")
    return column.in_(keys.blind_indexes(field, value))  # type: ignore[no-any-return]


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
        "custom": {},
    }
    row.update(encrypted_columns(keys, c))
    return row

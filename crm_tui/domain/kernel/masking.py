"""How sensitive values look on screen: enough to recognise, never enough to use."""

from __future__ import annotations

from datetime import date


def mask_national_id(value: str | None) -> str:
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_phone(value: str | None) -> str:
    if not value:
        return ""
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_bank_account(value: str | None) -> str:
    if not value:
        return ""
    return "*" * max(len(value) - 4, 0) + value[-4:] if len(value) > 4 else "*" * len(value)


def mask_name(value: str | None) -> str:
    """A name recognisable to the people who know the customer: 张* , 张*丰, 欧**娜."""
    if not value:
        return ""
    if len(value) <= 2:
        return value[0] + "*" * (len(value) - 1) if len(value) == 2 else value
    return value[0] + "*" * (len(value) - 2) + value[-1]


def mask_phone_tail(last4: str | None) -> str:
    """What a list shows when only the indexed tail is at hand."""
    return f"*******{last4}" if last4 else ""


MASKERS = {
    "national_id": mask_national_id,
    "phone": mask_phone,
    "bank_account": mask_bank_account,
}


def _keep(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + (value[-tail:] if tail else "")


def birth_beside_id(birth: date | None, rules: object) -> tuple[date | None, int | None]:
    """What of a birth date may stand beside a masked ID (the full date and the ID's tail
    re-identify): (full date, year), by the policy's `birth_date_beside_id` — the year
    only, or nothing."""
    if birth is None or getattr(rules, "birth_date_beside_id", "year") == "hide":
        return None, None
    return None, birth.year


def mask_by_policy(field: str, value: str | None, rules: object) -> str:
    """Mask by the policy's `masking` rules (kernel.policy's MaskingPolicy): how many leading
    and trailing characters stay. Exports use it; unknown fields fall back to MASKERS."""
    if not value:
        return ""
    if field == "national_id":
        return _keep(value, getattr(rules, "national_id_head", 0), getattr(rules, "national_id_tail", 4))
    if field == "phone":
        return _keep(value, getattr(rules, "phone_head", 3), getattr(rules, "phone_tail", 4))
    if field == "bank_account":
        return _keep(value, 0, getattr(rules, "bank_account_tail", 4))
    return MASKERS[field](value) if field in MASKERS else "*" * len(value)

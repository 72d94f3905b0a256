"""How sensitive values look on screen: enough to recognise, never enough to use."""

from __future__ import annotations


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

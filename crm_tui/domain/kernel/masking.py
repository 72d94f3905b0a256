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

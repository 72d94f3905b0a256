"""How numbers, dates and codes look on screen (one place, so every table agrees)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from crm_tui.i18n import has_key, t


def money(amount: Decimal | int | None) -> str:
    """`¥1,234,567.00` — always two decimals, thousands separated."""
    return f"¥{Decimal(amount or 0):,.2f}"


def day(value: date | None) -> str:
    return value.isoformat() if value else "—"


def moment(value: datetime | None, tz: ZoneInfo) -> str:
    """A stored UTC time in the branch's zone, to the minute."""
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else "—"


def risk_label(level: str | None) -> str:
    return t(f"risk.{level}") if level else t("tui.common.not_assessed")


def role_label(role: str) -> str:
    return t(f"role.{role}") if role else ""


def or_dash(text: str | None) -> str:
    return text if text else "—"


def label(prefix: str, value: str | None) -> str:
    """`t(prefix.value)` when the catalog knows the code, else the code itself."""
    if not value:
        return "—"
    key = f"{prefix}.{value}"
    return t(key) if has_key(key) else value

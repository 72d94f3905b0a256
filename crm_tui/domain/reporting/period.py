"""Reporting periods: a quarter (`2026-Q3`), a month (`2026-11`) or a year (`2026`), in the
display zone, as half-open UTC intervals [start, end)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from crm_tui.domain.kernel.errors import FieldError, ValidationFailed

_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Period:
    label: str
    first: date
    after: date
    """The day after the last day."""
    tz: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime(self.first.year, self.first.month, self.first.day, tzinfo=self.tz).astimezone(UTC)

    @property
    def end(self) -> datetime:
        return datetime(self.after.year, self.after.month, self.after.day, tzinfo=self.tz).astimezone(UTC)

    def previous(self) -> Period:
        if "Q" in self.label:
            y, q = int(self.label[:4]), int(self.label[-1])
            return parse_period(f"{y - 1}-Q4" if q == 1 else f"{y}-Q{q - 1}", self.tz)
        if "-" in self.label:
            y, m = int(self.label[:4]), int(self.label[5:])
            return parse_period(f"{y - 1}-12" if m == 1 else f"{y}-{m - 1:02d}", self.tz)
        return parse_period(str(int(self.label) - 1), self.tz)

    def next(self) -> Period:
        if "Q" in self.label:
            y, q = int(self.label[:4]), int(self.label[-1])
            return parse_period(f"{y + 1}-Q1" if q == 4 else f"{y}-Q{q + 1}", self.tz)
        if "-" in self.label:
            y, m = int(self.label[:4]), int(self.label[5:])
            return parse_period(f"{y + 1}-01" if m == 12 else f"{y}-{m + 1:02d}", self.tz)
        return parse_period(str(int(self.label) + 1), self.tz)


def _month_after(y: int, m: int) -> date:
    return date(y + 1, 1, 1) if m == 12 else date(y, m + 1, 1)


def parse_period(text: str, tz: ZoneInfo) -> Period:
    """The period `text` names, or ValidationFailed saying which forms are accepted."""
    value = (text or "").strip()
    if m := _QUARTER.match(value):
        y, q = int(m[1]), int(m[2])
        first = date(y, 3 * q - 2, 1)
        return _checked(Period(f"{y}-Q{q}", first, _month_after(y, 3 * q), tz))
    if m := _MONTH.match(value):
        y, mo = int(m[1]), int(m[2])
        if 1 <= mo <= 12:
            return _checked(Period(f"{y}-{mo:02d}", date(y, mo, 1), _month_after(y, mo), tz))
    if m := _YEAR.match(value):
        y = int(m[1])
        return _checked(Period(str(y), date(y, 1, 1), date(y + 1, 1, 1), tz))
    raise ValidationFailed([FieldError("period", "reporting.error.period", {"value": value})])


def _checked(p: Period) -> Period:
    if not 1900 <= p.first.year <= 2100:
        raise ValidationFailed([FieldError("period", "reporting.error.period", {"value": p.label})])
    return p


def current_quarter(tz: ZoneInfo, today: date | None = None) -> Period:
    d = today or datetime.now(tz).date()
    return parse_period(f"{d.year}-Q{(d.month - 1) // 3 + 1}", tz)

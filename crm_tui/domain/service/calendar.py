"""Business time for SLA clocks: PRC working days and the working hours of the policy.

Working days come from `chinesecalendar` (public holidays off, make-up working days 调休
on); for a year it does not know yet, from the `holidays` package's CN public holidays on
weekdays; the policy's `extra_holidays` / `extra_workdays` override both. All arithmetic
runs in the policy's zone (Asia/Shanghai) and returns UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from crm_tui.domain.policy.service_policy import ServiceCalendar

MAX_DAYS = 3660  # a deadline further than ten years away is a bad setting, not a plan


@lru_cache(maxsize=64)
def _cn_public_holidays(year: int) -> frozenset[date]:
    import holidays

    return frozenset(holidays.country_holidays("CN", years=year))


@lru_cache(maxsize=4096)
def _package_workday(day: date) -> bool:
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the package has no data for
        return day.weekday() < 5 and day not in _cn_public_holidays(day.year)


def is_workday(cal: ServiceCalendar, day: date) -> bool:
    if day in cal.extra_workdays:
        return True
    if day in cal.extra_holidays:
        return False
    return _package_workday(day)


def _window(cal: ServiceCalendar, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return (datetime.combine(day, cal.day_start, tz), datetime.combine(day, cal.day_end, tz))


def add_business_seconds(cal: ServiceCalendar, start: datetime, seconds: float) -> datetime:
    """The moment `seconds` of working time after `start` (UTC in, UTC out)."""
    if start.tzinfo is None:
        raise ValueError("naive datetime")
    tz = ZoneInfo(cal.zone)
    at = start.astimezone(tz)
    remaining = max(0.0, float(seconds))
    for _ in range(MAX_DAYS):
        day = at.date()
        if is_workday(cal, day):
            opens, closes = _window(cal, day, tz)
            at = max(at, opens)
            if at < closes:
                available = (closes - at).total_seconds()
                if remaining <= available and (remaining > 0 or at >= opens):
                    return (at + timedelta(seconds=remaining)).astimezone(UTC)
                remaining -= available
        at = datetime.combine(day + timedelta(days=1), datetime.min.time(), tz)
    raise ValueError("deadline beyond the calendar")


def add_business_hours(cal: ServiceCalendar, start: datetime, hours: float) -> datetime:
    return add_business_seconds(cal, start, hours * 3600)


def business_seconds_between(cal: ServiceCalendar, a: datetime, b: datetime) -> float:
    """Working seconds in [a, b) (0 when b <= a)."""
    if b <= a:
        return 0.0
    tz = ZoneInfo(cal.zone)
    la, lb = a.astimezone(tz), b.astimezone(tz)
    total = 0.0
    day = la.date()
    for _ in range(MAX_DAYS):
        if day > lb.date():
            break
        if is_workday(cal, day):
            opens, closes = _window(cal, day, tz)
            lo, hi = max(opens, la), min(closes, lb)
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total

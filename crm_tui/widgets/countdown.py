"""Time to breach as a short countdown with a colour: red once overdue, amber inside the
last hour, dim while the clock is paused (waiting for the customer)."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from crm_tui.i18n import t

WARN_SECONDS = 3600


def countdown(due: datetime | None, now: datetime, *, paused: bool = False) -> Text:
    if due is None:
        return Text("—", style="dim")
    if paused:
        return Text(t("tui.service.paused"), style="dim italic")
    seconds = int((due - now).total_seconds())
    overdue = seconds < 0
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        text = f"{days}d{hours:02d}h"
    elif hours:
        text = f"{hours}h{minutes:02d}m"
    else:
        text = f"{minutes}m"
    if overdue:
        return Text(f"-{text}", style="bold red")
    return Text(text, style="bold yellow" if seconds <= WARN_SECONDS else "green")

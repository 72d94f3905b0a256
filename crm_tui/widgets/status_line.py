"""`say(text, ok=)` for a screen or pane with one message line: the one implementation
behind what call_domain reports and what a screen says after an action."""

from __future__ import annotations

from typing import Any, cast

from textual.widgets import Static


class SaysOnLine:
    """Mixin: set MESSAGE_LINE to the id selector of the pane's Static message line."""

    MESSAGE_LINE = "#message"

    def say(self, text: str, *, ok: bool) -> None:
        line = cast(Any, self).query_one(self.MESSAGE_LINE, Static)
        line.update(text)
        line.set_class(not ok, "-error")

"""Textual's Footer, recomposed only when what it shows changes.

Textual's Footer removes and re-mounts every key widget whenever a screen's bindings may
have changed (a focus move, a pushed or popped screen, any `refresh_bindings()`), and
mounting a dozen widgets with their CSS costs a session 50-80 ms of CPU each time. Most of
those signals change nothing on screen (measured: opening a profile recomposed the footer
six times, five of them identical; moving the cursor from the search box to the results,
twice, both identical). With fifty SSH sessions on two cores that CPU is everyone's
latency, so this footer compares what it would show with what it shows and skips the
recompose when they are equal.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple[Any, ...] | None = None

    def _showing(self) -> tuple[Any, ...]:
        """Everything the parent's compose reads from the bindings, in its order."""
        return tuple((binding.key, binding.action, binding.description, binding.group, enabled,
                      tooltip, binding.show)
                     for (_, binding, enabled, tooltip) in self.screen.active_bindings.values())

    def compose(self):  # type: ignore[no-untyped-def]
        self._shown = self._showing() if self._bindings_ready else None
        yield from super().compose()

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if (self._shown is not None and self.is_attached and screen is self.screen
                and self._showing() == self._shown):
            return
        super().bindings_changed(screen)

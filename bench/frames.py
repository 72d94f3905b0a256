"""Frames as a terminal would get them, for the real-app paint figures."""

from __future__ import annotations

import asyncio
import time
from typing import Any


class Frames:
    """Times frames in the real app: wraps `App._display` (where the screen's update goes
    to the terminal), renders each update to its terminal bytes as a real terminal
    would get them, and notes when an awaited text first appears in them."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.wanted: dict[str, str] = {}
        self.seen: dict[str, float] = {}
        original = app._display

        def display(screen: Any, update: Any) -> None:
            if update is not None and self.wanted and hasattr(update, "render_segments"):
                sent = update.render_segments(app.console)
                for name, text in list(self.wanted.items()):
                    if text in sent:
                        self.seen[name] = time.perf_counter()
                        del self.wanted[name]
            original(screen, update)

        app._display = display

    def expect(self, **texts: str) -> None:
        self.wanted, self.seen = dict(texts), {}

    async def wait(self, timeout: float = 20.0) -> None:
        end = time.perf_counter() + timeout
        while self.wanted and time.perf_counter() < end:
            await asyncio.sleep(0.001)
        if self.wanted:
            raise RuntimeError(f"never painted: {self.wanted}")

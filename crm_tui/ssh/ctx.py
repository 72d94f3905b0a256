"""One SSH session on its way through the middleware chain, and how the chain is built.

A middleware takes the next handler and returns a handler; `compose` nests them so that
the first in the list runs first. The chain itself is in `middleware.CHAIN`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import asyncssh

from crm_tui.domain.kernel.actor import Actor
from crm_tui.i18n import catalog

if TYPE_CHECKING:
    from crm_tui.ssh.server import Gateway
    from crm_tui.ssh.spawn import PtyChild


def text(lang: str, key: str, **params: Any) -> str:
    raw = catalog(lang).get(key) or catalog("en").get(key, key)
    try:
        return raw.format(**params) if params else raw
    except (KeyError, IndexError, ValueError):
        return raw


@dataclass
class Ctx:
    """One SSH session on its way through the middleware chain."""

    gateway: Gateway
    chan: asyncssh.SSHServerChannel[bytes]
    username: str
    fingerprint: str
    peer: str
    term: str | None
    cols: int = 80
    rows: int = 24
    colorterm: str = ""
    lang: str = ""
    actor: Actor | None = None
    session_id: int | None = None
    token: str = ""
    child: PtyChild | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    last_input: float = field(default_factory=time.monotonic)
    end_reason: str = "closed"

    def say(self, key: str, **params: Any) -> None:
        with contextlib.suppress(Exception):
            self.chan.write((text(self.lang, key, **params) + "\r\n").encode())


Handler = Callable[[Ctx], Awaitable[int]]
Middleware = Callable[[Handler], Handler]


def compose(middlewares: Sequence[Middleware], final: Handler) -> Handler:
    handler = final
    for mw in reversed(middlewares):
        handler = mw(handler)
    return handler

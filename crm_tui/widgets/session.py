"""What a screen needs to know about the signed-in session, without importing the app.

Screens and widgets reach the open `Crm`, the acting staff member and the injectable
"today" through these properties; the app module stays import-light because nothing
here pulls in the domain at import time.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol, cast

from textual.dom import DOMNode

from crm_tui.i18n import t

if TYPE_CHECKING:
    from crm_tui.domain.kernel.actor import Actor
    from crm_tui.domain.kernel.context import Crm


@dataclass(frozen=True)
class SignedIn:
    """Who is at the keyboard, with the names the status line shows."""

    actor: Actor
    branch: str
    team: str


class CrmHost(Protocol):
    @property
    def crm(self) -> Crm: ...

    session: SignedIn | None
    today: date | None


class UsesCrm:
    """Mixin for widgets and screens: `self.crm`, `self.actor`, `self.today`."""

    @property
    def host(self) -> CrmHost:
        return cast(CrmHost, cast(Any, self).app)

    @property
    def crm(self) -> Crm:
        return self.host.crm

    @property
    def actor(self) -> Actor:
        session = self.host.session
        if session is None:
            raise RuntimeError("no one is signed in")
        return session.actor

    @property
    def today(self) -> date | None:
        return self.host.today


def _end_session(node: DOMNode, reason: str) -> None:
    """Tell the app (from the UI thread or a worker: `session_revoked` posts a message)."""
    revoked = getattr(node.app, "session_revoked", None)
    if revoked is not None:
        revoked(reason)


def failure_text(node: DOMNode, exc: Exception) -> str:
    """What to tell the user when a call into the domain fails.

    A refusal (`DomainError`) is shown in the domain's own words. Anything else — the
    store unreachable or locked, a bug — gets one translated line with an error id on
    screen, and the same id with the full traceback in the log file (`crm_tui.logs`),
    instead of taking the whole session down.
    """
    from crm_tui.domain.kernel.errors import DomainError
    from crm_tui.domain.kernel.sessions import SessionRevoked

    if isinstance(exc, SessionRevoked):  # any screen's call: back to the login screen
        _end_session(node, exc.message)
        return exc.message
    if isinstance(exc, DomainError):
        return exc.message
    from crm_tui.logs import log_path, log_unexpected

    error_id = log_unexpected(exc, f"tui {type(node).__name__}")
    node.log.error(f"error {error_id}\n" + "".join(traceback.format_exception(exc)))
    return t("error.unexpected", id=error_id, kind=type(exc).__name__, log=str(log_path()))

"""The top line: the product on the left, who is signed in (name, role, branch) on the right."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from crm_tui.i18n import t
from crm_tui.widgets.formatting import role_label
from crm_tui.widgets.session import SignedIn


def who(session: SignedIn) -> str:
    actor = session.actor
    place = " / ".join(p for p in (session.branch, session.team) if p)
    parts = [actor.display_name, role_label(actor.role)] + ([place] if place else [])
    return " · ".join(parts)


class StatusBar(Horizontal):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; }
    StatusBar #status-product { width: 1fr; padding: 0 1; color: $primary; text-style: bold; }
    StatusBar #status-context { width: auto; padding: 0 1; color: $text-muted; }
    StatusBar #status-who { width: auto; padding: 0 1; color: $foreground; }
    """

    def __init__(self, session: SignedIn, context: str = "") -> None:
        super().__init__()
        self._session = session
        self._context_text = context

    def compose(self) -> ComposeResult:
        yield Static(t("tui.app.title"), id="status-product")
        yield Static(self._context_text, id="status-context")
        yield Static(t("tui.status.signed_in", who=who(self._session)), id="status-who")

    def set_context(self, text: str) -> None:
        self.query_one("#status-context", Static).update(text)

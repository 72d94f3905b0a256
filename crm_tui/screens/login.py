"""Sign in: user name and password, checked by `domain.auth.login` in a worker.

This module is imported before anything else paints, so it must not import the domain
or SQLAlchemy at module level; the worker does that (and opens the store) off the UI
thread while the user is still typing.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Static

from crm_tui.i18n import t
from crm_tui.widgets.bindings import TranslatedFooter
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.footer import Footer
from crm_tui.widgets.session import SignedIn, UsesCrm


class LoginScreen(TranslatedFooter, UsesCrm, DomainCalls, Screen[SignedIn]):
    """Dismisses with a `SignedIn` once the domain accepts the credentials."""

    AUTO_FOCUS = "#username"
    BINDINGS = [Binding("ctrl+q", "app.quit", "tui.key.quit", id="login-quit")]

    def __init__(self, username: str = "", reason: str = "") -> None:
        super().__init__()
        self._username = username
        self._reason = reason  # why the last session ended (revoked rights), shown once

    def compose(self) -> ComposeResult:
        with Vertical(id="login-box"):
            yield Static(t("tui.app.title"), id="login-title")
            yield Static(t("tui.login.subtitle"), id="login-subtitle")
            yield Static(t("field.username"), classes="field-label")
            yield Input(self._username, id="username", placeholder=t("tui.login.username_hint"))
            yield Static(t("field.password"), classes="field-label")
            yield Input(id="password", password=True, placeholder=t("tui.login.password_hint"))
            yield Static(self._reason, id="login-error", classes="form-error", markup=False)
            yield Button(t("tui.login.submit"), id="login-submit", variant="primary")
            yield Static(t("tui.login.notice"), id="login-notice")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if self._username:
            self.query_one("#password", Input).focus()
        self.call_after_refresh(getattr(self.app, "note_started", lambda: None))

    @on(Input.Submitted, "#username")
    def _to_password(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    @on(Button.Pressed, "#login-submit")
    def _submit(self) -> None:
        username = self.query_one("#username", Input).value.strip()
        password = self.query_one("#password", Input).value
        error = self.query_one("#login-error", Static)
        if not username or not password:
            error.update(t("tui.login.fill_both"))
            return
        error.update(t("tui.login.checking"))
        self.query_one("#login-submit", Button).disabled = True
        self._check(username, password)

    def _check(self, username: str, password: str) -> None:
        self.call_domain(_sign_in, self, username, password, group="login", block=True,
                         on_done=self.dismiss, on_error=self._failed)

    def _failed(self, text: str) -> None:
        self.query_one("#login-error", Static).update(text)
        self.query_one("#login-submit", Button).disabled = False
        password = self.query_one("#password", Input)
        password.value = ""
        password.focus()


def _sign_in(screen: LoginScreen, username: str, password: str) -> SignedIn:
    """In the worker: open the store (lazily, off the UI thread), check the password and
    warm the next screen's imports. A store that cannot be opened is one translated line."""
    from crm_tui.domain.admin import auth, staff
    from crm_tui.domain.kernel.errors import DomainError

    try:
        crm = screen.crm
        actor = auth.login(crm, username, password)
        branch, team = staff.workplace(crm, actor)
    except DomainError:
        raise
    except Exception as exc:  # no key file, an uninitialised or unreachable store
        screen.log.error(repr(exc))
        detail = (str(exc).splitlines() or [""])[0][:160]
        raise DomainError("tui.login.cannot_open", detail=detail) from exc
    import crm_tui.screens.main  # noqa: F401  (warm the next screen off the UI thread)

    return SignedIn(actor, branch, team)

"""Sign in: user name and password, checked by `domain.auth.login` in a worker.

This module is imported before anything else paints, so it must not import the domain
or SQLAlchemy at module level; the worker does that (and opens the store) off the UI
thread while the user is still typing.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Static

from crm_tui.i18n import t
from crm_tui.widgets.bindings import translate_bindings
from crm_tui.widgets.session import SignedIn, UsesCrm


class LoginScreen(UsesCrm, Screen[SignedIn]):
    """Dismisses with a `SignedIn` once the domain accepts the credentials."""

    AUTO_FOCUS = "#username"
    BINDINGS = [Binding("ctrl+q", "app.quit", "tui.key.quit", id="login-quit")]

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Succeeded(Message):
        def __init__(self, session: SignedIn) -> None:
            super().__init__()
            self.session = session

    def __init__(self, username: str = "", reason: str = "") -> None:
        super().__init__()
        translate_bindings(self)
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

    @work(thread=True, exclusive=True, group="login")
    def _check(self, username: str, password: str) -> None:
        from crm_tui.domain.admin import auth, staff
        from crm_tui.domain.kernel.errors import DomainError

        try:
            crm = self.crm
            actor = auth.login(crm, username, password)
            branch, team = staff.workplace(crm, actor)
        except DomainError as exc:
            self.post_message(self.Failed(exc.message))
            return
        except Exception as exc:  # no key file, an uninitialised or unreachable store
            self.log.error(repr(exc))
            detail = (str(exc).splitlines() or [""])[0][:160]
            self.post_message(self.Failed(t("tui.login.cannot_open", detail=detail)))
            return
        import crm_tui.screens.main  # noqa: F401  (warm the next screen off the UI thread)

        self.post_message(self.Succeeded(SignedIn(actor, branch, team)))

    def on_login_screen_failed(self, message: Failed) -> None:
        self.query_one("#login-error", Static).update(message.text)
        self.query_one("#login-submit", Button).disabled = False
        password = self.query_one("#password", Input)
        password.value = ""
        password.focus()

    def on_login_screen_succeeded(self, message: Succeeded) -> None:
        self.dismiss(message.session)

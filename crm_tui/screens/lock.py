"""The lock screen: after idle minutes (or Ctrl+L) only the same password gets back in.

It hides everything underneath (opaque), audits the lock through the app, and checks
the password with `domain.auth.unlock_session`, so failures count toward the lockout.
If the account gets locked, or the user chooses to, the session ends instead.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Middle, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from crm_tui.i18n import t
from crm_tui.widgets.bindings import TranslatedFooter
from crm_tui.widgets.footer import Footer
from crm_tui.widgets.formatting import role_label
from crm_tui.widgets.session import SignedIn, UsesCrm, failure_text


class LockScreen(TranslatedFooter, UsesCrm, ModalScreen[bool]):
    """Dismisses True when unlocked, False when the user signs out (or is locked out)."""

    AUTO_FOCUS = "#unlock-password"
    SIGN_OUT_DELAY = 3.0  # seconds to read why the session ends
    BINDINGS = [Binding("ctrl+o", "sign_out", "tui.key.logout", id="lock-logout")]

    class Result(Message):
        def __init__(self, ok: bool, text: str = "", locked_out: bool = False) -> None:
            super().__init__()
            self.ok, self.text, self.locked_out = ok, text, locked_out

    def __init__(self, session: SignedIn, *, idle: bool) -> None:
        super().__init__(id="lock-screen")
        self._session = session
        self._idle = idle

    def compose(self) -> ComposeResult:
        actor = self._session.actor
        with Middle(), Center(), Vertical(id="lock-box"):
            yield Static(t("tui.lock.title"), id="lock-title")
            yield Static(t("tui.lock.idle" if self._idle else "tui.lock.manual"), id="lock-reason")
            yield Static(f"{actor.display_name} · {role_label(actor.role)} · {actor.username}",
                         id="lock-who")
            yield Label(t("field.password"), classes="field-label")
            yield Input(id="unlock-password", password=True)
            yield Static("", id="lock-error", classes="form-error", markup=False)
            yield Button(t("tui.lock.unlock"), id="unlock", variant="primary")
        yield Footer(compact=True)

    @on(Input.Submitted, "#unlock-password")
    @on(Button.Pressed, "#unlock")
    def _submit(self) -> None:
        password = self.query_one("#unlock-password", Input).value
        if not password:
            self.query_one("#lock-error", Static).update(t("tui.lock.need_password"))
            return
        self._check(password)

    @work(thread=True, exclusive=True, group="unlock")
    def _check(self, password: str) -> None:
        from crm_tui.domain.admin.auth import unlock_session
        from crm_tui.domain.kernel.errors import AccountLocked

        try:
            unlock_session(self.crm, self._session.actor, password)
        except AccountLocked as exc:
            self.post_message(self.Result(False, failure_text(self, exc), locked_out=True))
        except Exception as exc:
            self.post_message(self.Result(False, failure_text(self, exc)))
        else:
            self.post_message(self.Result(True))

    def on_lock_screen_result(self, message: Result) -> None:
        if message.ok:
            self.dismiss(True)
            return
        self.query_one("#lock-error", Static).update(message.text)
        field = self.query_one("#unlock-password", Input)
        field.value = ""
        if message.locked_out:
            self.query_one("#unlock", Button).disabled = True
            field.disabled = True
            self.query_one("#lock-error", Static).update(
                f"{message.text}\n{t('tui.lock.signing_out')}")
            self.set_timer(self.SIGN_OUT_DELAY, self.action_sign_out)
        else:
            field.focus()

    def action_sign_out(self) -> None:
        self.dismiss(False)

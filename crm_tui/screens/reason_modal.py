"""A dialog with one required text — a reason or a comment — that runs one domain call.

Rejecting a request and clearing an alert are the same gesture: say why, confirm, and
either close with the outcome line or show the domain's refusal where the field is.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import on, work
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Static

from crm_tui.i18n import t
from crm_tui.screens.form_modal import FormModal
from crm_tui.widgets.form_field import FormField
from crm_tui.widgets.session import failure_text


class ReasonModal(FormModal[str]):
    """Subclasses name the field, the input id and the call (`perform`) and the outcome line."""

    FIELD = "reason"
    INPUT_ID = "reason-input"
    NOTICE: str | None = None
    PLACEHOLDER: str | None = None

    class Outcome(Message):
        def __init__(self, ok: bool, errors: dict[str, str] | None = None,
                     text: str = "") -> None:
            super().__init__()
            self.ok, self.errors, self.text = ok, errors, text

    def perform(self, text: str) -> None:
        """The domain call; runs in a worker thread."""
        raise NotImplementedError

    def done_text(self) -> str:
        raise NotImplementedError

    def fields(self) -> Iterable[Widget]:
        if self.NOTICE:
            yield Static(t(self.NOTICE), classes="form-notice")
        placeholder = t(self.PLACEHOLDER) if self.PLACEHOLDER else ""
        yield FormField(self.FIELD, t(f"field.{self.FIELD}"),
                        Input(id=self.INPUT_ID, compact=True, placeholder=placeholder))

    def on_mount(self) -> None:
        self.query_one(f"#{self.INPUT_ID}", Input).focus()

    @on(Input.Submitted)
    def _submit_on_enter(self, event: Input.Submitted) -> None:
        """One field to fill: Enter confirms (instead of moving to the next field)."""
        event.stop()
        event.prevent_default()
        self.action_submit()

    def submit(self) -> None:
        self._run(self.query_one(f"#{self.INPUT_ID}", Input).value)

    @work(thread=True, exclusive=True, group="form")
    def _run(self, text: str) -> None:
        from crm_tui.domain.kernel.errors import ValidationFailed

        try:
            self.perform(text)
        except ValidationFailed as exc:
            self.post_message(self.Outcome(False, exc.by_field()))
        except Exception as exc:
            self.post_message(self.Outcome(False, text=failure_text(self, exc)))
        else:
            self.post_message(self.Outcome(True))

    def on_reason_modal_outcome(self, message: Outcome) -> None:
        if message.ok:
            self.dismiss(self.done_text())
        else:
            self.failed(message.errors, message.text)

"""A dialog with one required text — a reason or a comment — that runs one domain call.

Rejecting a request and clearing an alert are the same gesture: say why, confirm, and
either close with the outcome line or show the domain's refusal where the field is.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import on
from textual.widget import Widget
from textual.widgets import Input, Static

from crm_tui.i18n import t
from crm_tui.screens.form_modal import FormModal
from crm_tui.widgets.form_field import FormField


class ReasonModal(FormModal[str]):
    """Subclasses name the field, the input id and the call (`perform`) and the outcome line."""

    FIELD = "reason"
    INPUT_ID = "reason-input"
    NOTICE: str | None = None
    PLACEHOLDER: str | None = None

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

    def _run(self, text: str) -> None:
        self.call_form(self.perform, text, on_done=lambda _: self.dismiss(self.done_text()))

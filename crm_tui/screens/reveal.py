"""Reveal one sensitive value, for a stated reason.

The permission check and the audit event (who, which field, why — never the value)
live in `domain.customers.reveal_sensitive`; this dialog only asks and shows the answer
to the profile, which re-masks it when the user leaves.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import on, work
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Select, Static

from crm_tui.domain.customers.fields import SENSITIVE_FIELDS
from crm_tui.i18n import t
from crm_tui.screens.form_modal import FormModal
from crm_tui.widgets.form_field import FormField
from crm_tui.widgets.session import failure_text

FIELDS = SENSITIVE_FIELDS


class RevealModal(FormModal[tuple[str, str]]):
    """Dismisses with (field, plaintext) once the domain allows and audits the reveal."""

    SUBMIT_LABEL = "tui.reveal.confirm"

    class Outcome(Message):
        def __init__(self, field: str, value: str | None, errors: dict[str, str] | None = None,
                     text: str = "") -> None:
            super().__init__()
            self.field, self.value, self.errors, self.text = field, value, errors, text

    def __init__(self, customer_id: int, customer_name: str, field: str = "national_id") -> None:
        super().__init__(t("tui.reveal.title", name=customer_name))
        self.customer_id = customer_id
        self._field = field if field in FIELDS else FIELDS[0]

    def fields(self) -> Iterable[Widget]:
        yield Static(t("tui.reveal.notice"), classes="form-notice")
        yield FormField("field", t("field.field"), Select(
            [(t(f"field.{f}"), f) for f in FIELDS], value=self._field, allow_blank=False,
            id="reveal-field", compact=True))
        yield FormField("reason", t("field.reason"), Input(
            id="reveal-reason", compact=True, placeholder=t("tui.reveal.reason_hint")))

    def on_mount(self) -> None:
        self.query_one("#reveal-reason", Input).focus()

    @on(Input.Submitted)
    def _submit_on_enter(self, event: Input.Submitted) -> None:
        """One field to fill: Enter confirms (instead of moving to the next field)."""
        event.stop()
        event.prevent_default()
        self.action_submit()

    def submit(self) -> None:
        field = self.query_one("#reveal-field", Select).value
        self._reveal(field if isinstance(field, str) else "",
                     self.query_one("#reveal-reason", Input).value)

    @work(thread=True, exclusive=True, group="form")
    def _reveal(self, field: str, reason: str) -> None:
        from crm_tui.domain.customers.records import reveal_sensitive
        from crm_tui.domain.kernel.errors import ValidationFailed

        try:
            value = reveal_sensitive(self.crm, self.actor, self.customer_id, field, reason)
        except ValidationFailed as exc:
            self.post_message(self.Outcome(field, None, exc.by_field()))
        except Exception as exc:
            self.post_message(self.Outcome(field, None, text=failure_text(self, exc)))
        else:
            self.post_message(self.Outcome(field, value))

    def on_reveal_modal_outcome(self, message: Outcome) -> None:
        if message.value is not None:
            self.dismiss((message.field, message.value))
        else:
            self.failed(message.errors, message.text)

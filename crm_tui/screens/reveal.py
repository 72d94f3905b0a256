"""Reveal one sensitive value, for a stated reason.

The permission check and the audit event (who, which field, why — never the value)
live in `domain.customers.reveal_sensitive`; this dialog only asks and shows the answer
to the profile, which re-masks it when the user leaves.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import on
from textual.widget import Widget
from textual.widgets import Input, Select, Static

from crm_tui.domain.customers.fields import SENSITIVE_FIELDS
from crm_tui.i18n import t
from crm_tui.screens.form_modal import FormModal
from crm_tui.widgets.form_field import FormField

FIELDS = SENSITIVE_FIELDS


class RevealModal(FormModal[tuple[str, str]]):
    """Dismisses with (field, plaintext) once the domain allows and audits the reveal."""

    SUBMIT_LABEL = "tui.reveal.confirm"

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

    def _reveal(self, field: str, reason: str) -> None:
        from crm_tui.domain.customers.records import reveal_sensitive

        self.call_form(reveal_sensitive, self.crm, self.actor, self.customer_id, field, reason,
                       on_done=lambda value: self.dismiss((field, value)))

"""Ask for a sensitive field (national ID, phone, bank account, name, risk level) to change.

Nothing on the customer changes here: the domain opens a maker-checker request that a
supervisor approves from the inbox. The new value is checked now (ID checksum, mobile
format…) and shown masked to the approver.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.widget import Widget
from textual.widgets import Input, Select, Static

from crm_tui.i18n import t
from crm_tui.screens.form_modal import FormModal
from crm_tui.widgets.form_field import FormField


class SensitiveChangeForm(FormModal[int]):
    """Dismisses with the new request's id."""

    SUBMIT_LABEL = "tui.compliance.change.submit"

    def __init__(self, customer_id: int, customer_name: str, fields: Iterable[str]) -> None:
        super().__init__(t("tui.compliance.change.title", name=customer_name))
        self.customer_id = customer_id
        self._choices = list(fields)

    def fields(self) -> Iterable[Widget]:
        yield Static(t("tui.compliance.change.notice"), classes="form-notice")
        yield FormField("field", t("field.field"), Select(
            [(t(f"field.{f}"), f) for f in self._choices], value=self._choices[0],
            allow_blank=False, id="change-field", compact=True))
        yield FormField("new_value", t("tui.compliance.change.new_value"),
                        Input(id="change-value", compact=True))
        yield FormField("reason", t("field.reason"), Input(
            id="change-reason", compact=True, placeholder=t("tui.compliance.change.reason_hint")))

    def on_mount(self) -> None:
        self.query_one("#change-field", Select).focus()  # what to change comes first

    def submit(self) -> None:
        field = self.query_one("#change-field", Select).value
        self._request(field if isinstance(field, str) else "",
                      self.query_one("#change-value", Input).value,
                      self.query_one("#change-reason", Input).value)

    def _request(self, field: str, value: str, reason: str) -> None:
        from crm_tui.domain.compliance.sensitive_changes import request_change

        # the field being changed reports its problem on the "new value" line
        self.call_form(request_change, self.crm, self.actor, self.customer_id, field, value,
                       reason, on_done=self.dismiss,
                       field_map=lambda k: "new_value" if k == field else k)


def open_from_profile(profile: Any) -> None:
    """The profile's `s` key: ask, then say which request was opened and re-read."""
    view = profile.view
    if view is None:
        return
    fields = view.change_fields  # read with the profile, in its worker

    def done(request_id: int | None) -> None:
        if request_id:
            profile.say(t("tui.compliance.change.sent", id=request_id), ok=True)

    profile.app.push_screen(SensitiveChangeForm(view.id, view.name, fields), done)

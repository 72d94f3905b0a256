"""Ask for a sensitive custom field of one record (a customer, a lead, an opportunity, a
ticket) to change.

Nothing on the record changes here: the entity's domain call validates the new value
exactly as a save would (type, pattern, choices), and opens a maker-checker request that
a supervisor decides in the approval inbox. A refused value shows the rule under the "new
value" line; approval stores it encrypted, with its audit event.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual import on
from textual.widget import Widget
from textual.widgets import Input, Select, Static

from crm_tui.i18n import language, t
from crm_tui.screens.form_modal import FormModal
from crm_tui.widgets.form_field import FormField

if TYPE_CHECKING:
    from crm_tui.domain.forms.values import CustomFieldsView, CustomValue

HINTS = {"date": "YYYY-MM-DD", "number": "0", "decimal": "0.00"}


def hint(v: CustomValue) -> str:
    """What to type: the choices, or the shape of the value."""
    if v.choices:
        return ", ".join(v.choices)
    if v.type == "bool":
        return t("formstui.change.hint_bool")
    return HINTS.get(v.type, "")


class CustomChangeForm(FormModal[tuple[int, str]]):
    """Dismisses with (the new request's id, the field's key)."""

    SUBMIT_LABEL = "formstui.change.submit"

    def __init__(self, view: CustomFieldsView) -> None:
        super().__init__(t("formstui.change.title",
                           entity=t(f"tui.forms.entity.{view.entity}"), id=view.record_id))
        self.view = view
        self.choices = {v.key: v for v in view.values if v.sensitive}

    def fields(self) -> Iterable[Widget]:
        lang = language()
        first = next(iter(self.choices.values()))
        yield Static(t("formstui.change.notice"), classes="form-notice")
        yield FormField("field", t("field.field"), Select(
            [(v.label(lang), v.key) for v in self.choices.values()], value=first.key,
            allow_blank=False, id="cc-field", compact=True))
        yield FormField("current", t("formstui.change.current"),
                        Static(self._current(first), id="cc-current", markup=False))
        yield FormField("new_value", t("tui.compliance.change.new_value"),
                        Input(id="cc-value", compact=True, placeholder=hint(first)))
        yield FormField("reason", t("field.reason"), Input(
            id="cc-reason", compact=True, placeholder=t("tui.compliance.change.reason_hint")))

    def _current(self, v: CustomValue) -> str:
        rid = self.view.pending.get(v.key)
        text = v.text or "—"
        return f"{text}  {t('formstui.change.pending', id=rid)}" if rid else text

    def on_mount(self) -> None:
        self.query_one("#cc-value", Input).focus()

    @on(Select.Changed, "#cc-field")
    def _field_changed(self, event: Select.Changed) -> None:
        v = self.choices.get(str(event.value))
        if v is not None:
            self.query_one("#cc-current", Static).update(self._current(v))
            self.query_one("#cc-value", Input).placeholder = hint(v)

    def submit(self) -> None:
        from crm_tui.screens.custom_fields_form import request_call

        chosen = self.query_one("#cc-field", Select).value
        key = chosen if isinstance(chosen, str) else ""
        view = self.view
        # the field being changed reports its problem on the "new value" line
        self.call_form(request_call(view.entity), self.crm, self.actor, view.record_id, key,
                       self.query_one("#cc-value", Input).value,
                       self.query_one("#cc-reason", Input).value,
                       on_done=lambda rid: self.dismiss((rid, key)),
                       field_map=lambda k: "new_value" if k == key else k)

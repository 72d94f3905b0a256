"""Editing a customer's custom fields: one control per active field, built from its
declaration (text and numbers as inputs, a choice as a picker, several choices as a
selection list, yes/no as a switch), validated by the domain with the error under the field.
Sensitive fields are not edited here: they go through a maker-checker request."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual.widget import Widget
from textual.widgets import Input, Select, SelectionList, Static, Switch

from crm_tui.i18n import language, t
from crm_tui.screens.form_modal import FormModal
from crm_tui.widgets.form_field import FormField

if TYPE_CHECKING:
    from crm_tui.domain.customers.custom_values import CustomFieldsView, CustomValue


class CustomFieldsForm(FormModal[str | None]):
    def __init__(self, view: CustomFieldsView) -> None:
        super().__init__(t("tui.forms.edit_title"))
        self.view = view
        self.editable = [v for v in view.values if not v.sensitive]

    def _control(self, v: CustomValue) -> Widget:
        cid = f"cf-{v.key}"
        if v.type == "choice":
            return Select([(c, c) for c in v.choices], value=v.text if v.text in v.choices
                          else Select.NULL, allow_blank=not v.required, id=cid)
        if v.type == "multi_choice":
            chosen = {s.strip() for s in v.text.split(",")}
            return SelectionList[str](*((c, c, c in chosen) for c in v.choices), id=cid)
        if v.type == "bool":
            return Switch(value=v.text == "✓", id=cid)
        placeholder = {"date": "YYYY-MM-DD", "number": "0", "decimal": "0.00"}.get(v.type, "")
        return Input(value=v.text, placeholder=placeholder, id=cid)

    def fields(self) -> Iterable[Widget]:
        lang = language()
        if not self.editable:
            yield Static(t("tui.forms.nothing_editable"), classes="form-notice")
        for v in self.editable:
            label = v.label(lang) + (" *" if v.required else "")
            yield FormField(v.key, label, self._control(v))
            help_text = v.help_en if lang == "en" else v.help_zh
            if help_text:
                yield Static(help_text, classes="form-notice", markup=False)
        if any(v.sensitive for v in self.view.values):
            yield Static(t("tui.forms.sensitive_note"), classes="form-notice")

    def _values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for v in self.editable:
            control = self.query_one(f"#cf-{v.key}")
            if isinstance(control, Select):
                out[v.key] = "" if control.value is Select.NULL else str(control.value)
            elif isinstance(control, SelectionList):
                out[v.key] = list(control.selected)
            elif isinstance(control, Switch):
                out[v.key] = "1" if control.value else "0"
            elif isinstance(control, Input):
                out[v.key] = control.value
        return out

    def submit(self) -> None:
        from crm_tui.domain.customers.custom_values import update_custom_fields
        from crm_tui.domain.kernel.errors import ValidationFailed

        values = self._values()
        crm, actor, view = self.crm, self.actor, self.view

        def attempt() -> dict[str, str] | None:
            try:
                update_custom_fields(crm, actor, view.customer_id, view.version, values)
            except ValidationFailed as exc:
                return exc.by_field()
            return None

        self.call_domain(attempt, group="save", block=True, on_done=self._saved,
                         on_error=lambda text: self.failed(None, text))

    def _saved(self, errors: dict[str, str] | None) -> None:
        if errors:
            self.failed(errors)
            return
        self.dismiss(t("tui.forms.saved"))

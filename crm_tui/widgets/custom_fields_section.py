"""The custom fields of one entity inside any form: one control per active field, built
from its declaration (text and numbers as inputs, a choice as a picker, several choices as
a selection list, yes/no as a switch), grouped by section in the defined order and
labelled in the user's language, each in a `FormField` so the domain's error lands under
it. A new record's form (lead, ticket) loads the blank fields itself; an edit gets the
record's view. Sensitive fields are typed on a new record only (they are encrypted when
stored); afterwards they change through a maker-checker request."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Input, Select, SelectionList, Static, Switch

from crm_tui.i18n import language, t
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.form_field import FormField
from crm_tui.widgets.session import UsesCrm

if TYPE_CHECKING:
    from crm_tui.domain.forms.values import CustomFieldsView, CustomValue

PLACEHOLDERS = {"date": "YYYY-MM-DD", "number": "0", "decimal": "0.00"}


def control_for(v: CustomValue, cid: str) -> Widget:
    if v.type == "choice":
        return Select([(c, c) for c in v.choices], value=v.text if v.text in v.choices
                      else Select.NULL, allow_blank=not v.required, id=cid, compact=True,
                      prompt=t("forms_values.choose"))
    if v.type == "multi_choice":
        chosen = {s.strip() for s in v.text.split(",")}
        return SelectionList[str](*((c, c, c in chosen) for c in v.choices), id=cid,
                                  compact=True)
    if v.type == "bool":
        return Switch(value=v.text == "✓", id=cid)
    return Input(value=v.text, placeholder=PLACEHOLDERS.get(v.type, ""), id=cid, compact=True)


def value_of(control: Widget) -> Any:
    if isinstance(control, Select):
        return "" if control.value is Select.NULL else str(control.value)
    if isinstance(control, SelectionList):
        return list(control.selected)
    if isinstance(control, Switch):
        return "1" if control.value else "0"
    if isinstance(control, Input):
        return control.value
    return None


class CustomFieldsSection(DomainCalls, UsesCrm, Vertical):
    DEFAULT_CSS = """
    CustomFieldsSection { height: auto; }
    CustomFieldsSection > .cf-section { color: $text-muted; text-style: bold; margin-bottom: 1; }
    CustomFieldsSection > .cf-help { color: $text-muted; margin: -1 0 1 15; }
    """

    def __init__(self, entity: str, view: CustomFieldsView | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.entity = entity
        self.view = view
        self.editable: list[CustomValue] = []

    def on_mount(self) -> None:
        if self.view is not None:
            self._build(self.view)
            return
        from crm_tui.domain.forms.values import blank_view

        self.call_domain(blank_view, self.crm, self.entity, group="custom-fields",
                         on_done=self._build)

    def _build(self, view: CustomFieldsView) -> None:
        self.view = view
        new_record = view.record_id == 0
        self.editable = [v for v in view.values if new_record or not v.sensitive]
        self.mount_all(list(self._widgets(view, new_record)))
        # the form's "anything typed?" baseline now includes these (prefilled) controls
        baseline = getattr(self.screen, "_remember_start", None)
        if baseline is not None:
            self.call_after_refresh(baseline)

    def _widgets(self, view: CustomFieldsView, new_record: bool) -> Iterable[Widget]:
        lang = language()
        section: str | None = None
        for v in self.editable:
            if v.section != section:
                section = v.section
                title = t("tui.forms.panel_title") if section == "custom" else section
                yield Static(title, classes="cf-section", markup=False)
            yield FormField(v.key, v.label(lang) + (" *" if v.required else ""),
                            control_for(v, f"cf-{v.key}"))
            if v.help(lang):
                yield Static(v.help(lang), classes="cf-help", markup=False)
        if not new_record and any(v.sensitive for v in view.values):
            yield Static(t("forms_values.sensitive_note"), classes="form-notice")

    def values(self) -> dict[str, Any]:
        """What the user set, by field key (empty until the fields are loaded)."""
        return {v.key: value_of(self.query_one(f"#cf-{v.key}")) for v in self.editable}

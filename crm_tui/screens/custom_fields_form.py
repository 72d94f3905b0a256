"""Editing one record's custom fields (a customer, a lead, an opportunity, a ticket): the
shared `CustomFieldsSection` in a form frame, saved by the entity's domain call at the
version the view was read, with the error under the field. Sensitive fields are not
edited here: they go through a maker-checker request."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from textual.widget import Widget
from textual.widgets import Static

from crm_tui.i18n import t
from crm_tui.screens.form_modal import FormModal
from crm_tui.widgets.custom_fields_section import CustomFieldsSection

if TYPE_CHECKING:
    from crm_tui.domain.forms.values import CustomFieldsView

# entity → (domain module, view function, save function)
CALLS = {
    "customer": ("crm_tui.domain.customers.custom_values", "custom_fields_view",
                 "update_custom_fields"),
    "lead": ("crm_tui.domain.sales.custom_values", "lead_custom_view", "update_lead_custom"),
    "opportunity": ("crm_tui.domain.sales.custom_values", "opportunity_custom_view",
                    "update_opportunity_custom"),
    "ticket": ("crm_tui.domain.service.custom_values", "ticket_custom_view",
               "update_ticket_custom"),
}


def _call(entity: str, which: int) -> Callable[..., Any]:
    module, *names = CALLS[entity]
    return getattr(importlib.import_module(module), names[which])  # type: ignore[no-any-return]


class CustomFieldsForm(FormModal[str | None]):
    def __init__(self, view: CustomFieldsView) -> None:
        super().__init__(t("tui.forms.edit_title"))
        self.view = view

    def fields(self) -> Iterable[Widget]:
        if all(v.sensitive for v in self.view.values):
            yield Static(t("tui.forms.nothing_editable"), classes="form-notice")
        yield CustomFieldsSection(self.view.entity, self.view, id="custom-section")

    def submit(self) -> None:
        values = self.query_one(CustomFieldsSection).values()
        view = self.view
        self.call_form(_call(view.entity, 1), self.crm, self.actor, view.record_id, view.version,
                       values, on_done=lambda _v: self.dismiss(t("tui.forms.saved")))


def open_custom_form(host: Any, entity: str, record_id: int,
                     done: Callable[[str | None], None]) -> None:
    """Read the record's custom fields (a worker on `host`), then open the form; says so
    on `host` when the entity has no fields."""
    def loaded(view: CustomFieldsView) -> None:
        if not view.values:
            host.say(t("forms_values.none_defined", entity=t(f"tui.forms.entity.{entity}")),
                     ok=False)
            return
        host.app.push_screen(CustomFieldsForm(view), done)

    host.call_domain(_call(entity, 0), host.crm, host.actor, record_id, group="custom-fields",
                     on_done=loaded)


class CustomFilterForm(FormModal[tuple[dict[str, str], tuple[Any, ...]] | None]):
    """`key = value` on a list's filterable custom fields (blank: any). Dismisses with the
    typed values and the parsed filters, or None."""

    SUBMIT_LABEL = "forms_values.apply_filter"

    def __init__(self, entity: str, fields: tuple[Any, ...], current: dict[str, str]) -> None:
        super().__init__(t("forms_values.filter_title"))
        self.entity, self.filterable, self.current = entity, fields, current

    def fields(self) -> Iterable[Widget]:
        from textual.widgets import Input

        from crm_tui.i18n import language
        from crm_tui.widgets.form_field import FormField

        lang = language()
        for f in self.filterable:
            hint = ", ".join(f.spec.choices) if f.spec.choices else ""
            yield FormField(f.key, f.label(lang), Input(self.current.get(f.key, ""),
                                                        placeholder=hint, id=f"cff-{f.key}",
                                                        compact=True))

    def submit(self) -> None:
        from textual.widgets import Input

        from crm_tui.domain.forms.filters import parse_filters

        typed = {f.key: self.query_one(f"#cff-{f.key}", Input).value.strip()
                 for f in self.filterable}
        typed = {k: v for k, v in typed.items() if v}
        self.call_form(parse_filters, self.crm, self.entity, typed,
                       on_done=lambda filters: self.dismiss((typed, filters)))


def open_filter_form(host: Any, entity: str, current: dict[str, str],
                     done: Callable[[tuple[dict[str, str], tuple[Any, ...]] | None], None]) -> None:
    from crm_tui.domain.forms.filters import filterable_fields

    def loaded(fields: tuple[Any, ...]) -> None:
        if not fields:
            host.say(t("forms_values.none_filterable"), ok=False)
            return
        host.app.push_screen(CustomFilterForm(entity, fields, current), done)

    host.call_domain(filterable_fields, host.crm, entity, group="custom-fields", on_done=loaded)

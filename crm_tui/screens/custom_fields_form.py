"""Editing one record's custom fields (a customer, a lead, an opportunity, a ticket): the
shared `CustomFieldsSection` in a form frame, saved by the entity's domain call at the
version the view was read, with the error under the field. Sensitive fields are shown
masked, not edited: Ctrl+R asks for a change through a maker-checker request
(`custom_change_form`), and a field whose change already waits says so."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Button, Static

from crm_tui.i18n import language, t
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


# entity → (domain module, request function): a sensitive field's change request
REQUESTS = {
    "customer": ("crm_tui.domain.compliance.custom_field_changes", "request_custom_change"),
    "lead": ("crm_tui.domain.sales.custom_values", "request_lead_custom_change"),
    "opportunity": ("crm_tui.domain.sales.custom_values", "request_opportunity_custom_change"),
    "ticket": ("crm_tui.domain.service.custom_values", "request_ticket_custom_change"),
}


def request_call(entity: str) -> Callable[..., Any]:
    module, name = REQUESTS[entity]
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def _call(entity: str, which: int) -> Callable[..., Any]:
    module, *names = CALLS[entity]
    return getattr(importlib.import_module(module), names[which])  # type: ignore[no-any-return]


class CustomFieldsForm(FormModal[str | None]):
    BINDINGS = [Binding("ctrl+r", "request_change", "formstui.key.request_change",
                        id="custom-request-change")]

    def __init__(self, view: CustomFieldsView) -> None:
        super().__init__(t("tui.forms.edit_title"))
        self.view = view
        self.sensitive = [v for v in view.values if v.sensitive]

    def fields(self) -> Iterable[Widget]:
        from crm_tui.i18n import language
        from crm_tui.widgets.form_field import FormField

        if all(v.sensitive for v in self.view.values):
            notice = "nothing_editable" if self.may_request() else "nothing_editable_here"
            yield Static(t(f"formstui.change.{notice}"), classes="form-notice")
        yield CustomFieldsSection(self.view.entity, self.view, id="custom-section")
        lang = language()
        for v in self.sensitive:  # masked, read-only; a waiting change is named
            rid = self.view.pending.get(v.key)
            note = t("formstui.change.pending", id=rid) if rid else ""
            yield FormField(f"masked-{v.key}", v.label(lang), Static(
                f"{v.text or '—'}  {note}".rstrip(), id=f"cf-masked-{v.key}", markup=False))

    def may_request(self) -> bool:
        """Offered when there is a sensitive field and the domain would take the request
        (front-line roles; the service desk cannot ask)."""
        from crm_tui.domain.kernel.permissions import Perm, can

        return bool(self.sensitive) and can(self.actor, Perm.SENSITIVE_CHANGE_REQUEST)

    def extra_buttons(self) -> Iterable[Button]:
        if self.may_request():
            yield Button(f"{t('formstui.change.open')}  Ctrl+R", id="cf-request")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "request_change":
            return self.may_request()
        return True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cf-request":
            event.stop()
            self.action_request_change()

    def action_request_change(self) -> None:
        """Ask for a sensitive field to change: its own form; once the request is open,
        this form closes saying which request waits."""
        from crm_tui.screens.custom_change_form import CustomChangeForm

        def sent(answer: tuple[int, str] | None) -> None:
            if answer:
                rid, key = answer
                field = next(v for v in self.view.values if v.key == key)
                self.dismiss(t("formstui.change.requested", id=rid, field=field.label(language()),
                               entity=t(f"tui.forms.entity.{self.view.entity}"),
                               record=self.view.record_id))

        self.app.push_screen(CustomChangeForm(self.view), sent)

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

"""Edit the non-sensitive fields (e-mail, address, occupation, annual income, goals).

Saves with the version the form was filled from. If someone saved first the domain
raises `Conflict`; the form says so and offers to reload the current values (Ctrl+R).
ID, phone, bank account, name and risk level are not here: changing them needs an
approved request.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from textual import on
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Button, Input, Static, TextArea

from crm_tui.domain.customers.fields import EDITABLE_FIELDS, customer_field
from crm_tui.i18n import t
from crm_tui.screens.form_modal import FormModal
from crm_tui.widgets.form_field import FormField, show_field_errors

if TYPE_CHECKING:
    from crm_tui.domain.customers.views import CustomerView

# The editable fields of the registry: one-line inputs, and the long text (goals) in an area.
INPUTS = tuple(f for f in EDITABLE_FIELDS if customer_field(f).type != "long_text")


def _amount(value: Decimal) -> str:
    return f"{value:.2f}" if value else ""


def current_values(view: CustomerView) -> dict[str, str]:
    return {"email": view.email, "address": view.address, "occupation": view.occupation,
            "annual_income": _amount(view.annual_income), "goals": view.goals}


class EditCustomerForm(FormModal[int]):
    """Dismisses with the new version number after a successful save."""

    BINDINGS = [Binding("ctrl+r", "reload", "tui.key.reload", id="form-reload")]

    def __init__(self, view: CustomerView) -> None:
        super().__init__(t("tui.edit.title", name=view.name))
        self.customer_id = view.id
        self.version = view.version
        self.original = current_values(view)
        self.conflicted = False

    def fields(self) -> Iterable[Widget]:
        yield Static(t("tui.edit.sensitive_note"), classes="form-notice")
        for field in INPUTS:
            yield FormField(field, t(f"field.{field}"), Input(
                self.original[field], id=f"edit-{field}", compact=True))
        area = TextArea(self.original["goals"], id="edit-goals", compact=True)
        yield FormField("goals", t("field.goals"), area)

    def extra_buttons(self) -> Iterable[Button]:
        yield Button(f"{t('tui.edit.reload')}  Ctrl+R", id="form-reload", classes="-hidden")

    def on_mount(self) -> None:
        self.query_one("#edit-email", Input).focus()

    def values(self) -> dict[str, str]:
        out = {f: self.query_one(f"#edit-{f}", Input).value for f in INPUTS}
        out["goals"] = self.query_one("#edit-goals", TextArea).text
        return out

    def submit(self) -> None:
        changes = {k: v for k, v in self.values().items() if v != self.original[k]}
        if not changes:
            self.busy = False
            self.form_error(t("tui.edit.no_changes"))
            return
        self._save(self.version, changes)

    def _save(self, version: int, changes: dict[str, str]) -> None:
        from crm_tui.domain.customers.records import update_customer
        from crm_tui.domain.kernel.errors import Conflict

        self.call_form(update_customer, self.crm, self.actor, self.customer_id, version,
                       changes, on_done=self.dismiss, refusals=(Conflict,),
                       on_refused=self._conflict)

    def _conflict(self, exc: Exception) -> None:
        """Someone saved first: offer to load what is stored now (Ctrl+R)."""
        self.conflicted = True
        self.query_one("#form-reload", Button).remove_class("-hidden")
        self.failed(None, str(getattr(exc, "message", exc)))

    # -- after a conflict: fetch what is stored now ------------------------------------

    @on(Button.Pressed, "#form-reload")
    def _pressed_reload(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        if self.conflicted:
            self._reload()

    def _reload(self) -> None:
        from crm_tui.domain.customers.profile import get_profile

        self.call_domain(get_profile, self.crm, self.actor, self.customer_id, today=self.today,
                         interactions=1, group="reload", on_done=self._reloaded,
                         on_error=self.form_error)

    def _reloaded(self, view: CustomerView) -> None:
        self.version = view.version
        self.original = current_values(view)
        for field in INPUTS:
            self.query_one(f"#edit-{field}", Input).value = self.original[field]
        self.query_one("#edit-goals", TextArea).text = self.original["goals"]
        self.conflicted = False
        self.busy = False
        self.query_one("#form-reload", Button).add_class("-hidden")
        show_field_errors(self, {})
        self.form_error(t("tui.edit.reloaded", version=self.version))
        self.query_one("#edit-email", Input).focus()

"""A new opportunity typed in, beside the one a converted lead opens: the customer (picked
by search within the viewer's book, or the profile's own), an expected amount, and the
opportunity's custom fields in their sections. One domain call creates it at the needs
stage with its audit event; every refusal lands under its field."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from textual.widget import Widget
from textual.widgets import Input, Static

from crm_tui.i18n import t
from crm_tui.screens.form_modal import FormModal
from crm_tui.widgets.custom_fields_section import CustomFieldsSection
from crm_tui.widgets.customer_picker import CustomerPicker
from crm_tui.widgets.form_field import FormField


class NewOpportunityForm(FormModal[tuple[int, str]]):
    """Dismisses with (the new opportunity's id, the customer's name)."""

    SUBMIT_LABEL = "formstui.opp.submit"

    def __init__(self, customer: tuple[int, str] | None = None) -> None:
        super().__init__(t("formstui.opp.title"))
        self.customer = customer  # fixed when opened from a profile

    def fields(self) -> Iterable[Widget]:
        label = t("field.customer") + " *"
        if self.customer is None:
            yield FormField("customer", label, CustomerPicker(id="opp-customer"))
        else:
            yield FormField("customer", label, Static(self.customer[1], id="opp-customer",
                                                      markup=False))
        yield FormField("amount", t("formstui.opp.amount"), Input(
            id="opp-amount", compact=True, placeholder=t("formstui.opp.amount_hint")))
        yield CustomFieldsSection("opportunity")

    def on_mount(self) -> None:
        target = "#picker-query" if self.customer is None else "#opp-amount"
        self.query_one(target, Input).focus()

    def _chosen(self) -> tuple[int, str] | None:
        if self.customer is not None:
            return self.customer
        row = self.query_one(CustomerPicker).chosen
        return (row.id, row.name) if row is not None else None

    def submit(self) -> None:
        from crm_tui.domain.sales.opportunities import create_opportunity

        chosen = self._chosen()
        if chosen is None:
            self.failed({"customer": t("formstui.picker.required")})
            return
        cid, name = chosen
        self.call_form(create_opportunity, self.crm, self.actor, cid,
                       amount=self.query_one("#opp-amount", Input).value,
                       custom=self.query_one(CustomFieldsSection).values(),
                       on_done=lambda oid: self.dismiss((oid, name)))


def open_new_opportunity(host: Any, done: Callable[[str], None],
                         customer: tuple[int, str] | None = None) -> None:
    """The board's `a` and the profile's `o`: the form, then what was created on `host`."""
    def created(answer: tuple[int, str] | None) -> None:
        if answer:
            done(t("formstui.opp.created", id=answer[0], customer=answer[1]))

    host.app.push_screen(NewOpportunityForm(customer), created)

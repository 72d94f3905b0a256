"""Record a transaction for the customer: subscription, redemption, transfer or
cross-border transfer.

Choosing a product shows the suitability answer before saving (allowed, needs a
compliance override, or blocked with the reason). Saving asks the domain, which either
executes the trade, sends it up its approval chain (the form closes and the profile says
which levels must approve), or refuses it — KYC, suitability, a freeze — with the reason
shown here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Select, Static

from crm_tui.domain.sales.transactions import PRODUCT_KINDS, SUITABILITY_KINDS, TX_KINDS
from crm_tui.i18n import render, t
from crm_tui.screens.form_modal import FormModal
from crm_tui.widgets.form_field import FormField
from crm_tui.widgets.session import failure_text

if TYPE_CHECKING:
    from crm_tui.domain.compliance.suitability import SuitabilityResult
    from crm_tui.domain.sales.transactions import ProductChoice, TransactionOutcome

KINDS = TX_KINDS
NEEDS_PRODUCT = PRODUCT_KINDS


class TransactionForm(FormModal[str]):
    """Dismisses with the outcome line (executed, or pending with its chain)."""

    SUBMIT_LABEL = "tui.compliance.tx.submit"

    class Products(Message):
        def __init__(self, products: list[ProductChoice], text: str = "") -> None:
            super().__init__()
            self.products, self.text = products, text

    class Preview(Message):
        def __init__(self, result: SuitabilityResult | None, text: str = "") -> None:
            super().__init__()
            self.result, self.text = result, text

    class Outcome(Message):
        def __init__(self, outcome: TransactionOutcome | None,
                     errors: dict[str, str] | None = None, text: str = "") -> None:
            super().__init__()
            self.outcome, self.errors, self.text = outcome, errors, text

    def __init__(self, customer_id: int, customer_name: str) -> None:
        super().__init__(t("tui.compliance.tx.title", name=customer_name))
        self.customer_id = customer_id

    def fields(self) -> Iterable[Widget]:
        yield FormField("tx_kind", t("field.tx_kind"), Select(
            [(t(f"compliance.tx_kind.{k}"), k) for k in KINDS], value="subscription",
            allow_blank=False, id="tx-kind", compact=True))
        yield FormField("tx_product", t("field.tx_product"), Select(
            [], id="tx-product", compact=True, prompt=t("tui.compliance.tx.pick_product")))
        yield Static("", id="tx-suitability", classes="form-notice", markup=False)
        yield FormField("tx_amount", t("field.tx_amount"), Input(
            id="tx-amount", compact=True, placeholder="1,000,000.00"))

    def on_mount(self) -> None:
        self.query_one("#tx-kind", Select).focus()
        self._load_products()

    @work(thread=True, exclusive=True, group="form-products")
    def _load_products(self) -> None:
        from crm_tui.domain.sales.transactions import list_products

        try:
            self.post_message(self.Products(list_products(self.crm, self.actor)))
        except Exception as exc:
            self.post_message(self.Products([], failure_text(self, exc)))

    def on_transaction_form_products(self, message: Products) -> None:
        if message.text:
            self.form_error(message.text)
        self.query_one("#tx-product", Select).set_options(
            [(f"{p.code}  {p.name}  {p.risk_level}  {p.currency}", p.code)
             for p in message.products])

    @on(Select.Changed, "#tx-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        needs = event.value in NEEDS_PRODUCT
        self.query_one("#row-tx_product").display = needs
        self.query_one("#tx-suitability", Static).display = event.value in SUITABILITY_KINDS

    @on(Select.Changed, "#tx-product")
    def _product_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and self._kind() in SUITABILITY_KINDS:
            self._preview(event.value)

    def _kind(self) -> str:
        value = self.query_one("#tx-kind", Select).value
        return value if isinstance(value, str) else ""

    @work(thread=True, exclusive=True, group="form-preview")
    def _preview(self, product_code: str) -> None:
        from crm_tui.domain.compliance.suitability import suitability_for

        try:
            self.post_message(self.Preview(suitability_for(self.crm, self.actor,
                                                           self.customer_id, product_code)))
        except Exception as exc:
            self.post_message(self.Preview(None, failure_text(self, exc)))

    def on_transaction_form_preview(self, message: Preview) -> None:
        line = self.query_one("#tx-suitability", Static)
        result = message.result
        if result is None:
            line.update(message.text)
            return
        line.update(t(f"tui.compliance.tx.suitability_{result.action}", reason=render(result.note)))
        line.set_class(result.action == "block", "-blocked")

    def submit(self) -> None:
        product = self.query_one("#tx-product", Select).value
        self._record(self._kind(), product if isinstance(product, str) else None,
                     self.query_one("#tx-amount", Input).value)

    @work(thread=True, exclusive=True, group="form")
    def _record(self, kind: str, product: str | None, amount: str) -> None:
        from crm_tui.domain.kernel.errors import ValidationFailed
        from crm_tui.domain.sales.transactions import record_transaction

        try:
            outcome = record_transaction(self.crm, self.actor, self.customer_id, kind, amount,
                                         product_code=product if kind in NEEDS_PRODUCT else None)
        except ValidationFailed as exc:
            self.post_message(self.Outcome(None, exc.by_field()))
        except Exception as exc:
            self.post_message(self.Outcome(None, text=failure_text(self, exc)))
        else:
            self.post_message(self.Outcome(outcome))

    def on_transaction_form_outcome(self, message: Outcome) -> None:
        outcome = message.outcome
        if outcome is None:
            self.failed(message.errors, message.text)
            return
        text = render(outcome.note)
        if outcome.suitability is not None and outcome.suitability.action == "approve":
            text = f"{render(outcome.suitability.note)} {text}"
        self.dismiss(text)


def open_from_profile(profile: Any) -> None:
    """The profile's `b` key: record, then show the outcome and re-read holdings/AUM."""
    view = profile.view
    if view is None:
        return

    def done(text: str | None) -> None:
        if text:
            profile.say(text, ok=True)
            profile.load()

    profile.app.push_screen(TransactionForm(view.id, view.name), done)

"""Record a transaction for the customer: subscription, redemption, transfer or
cross-border transfer.

While the RM fills the form, the preview asks the domain (`preview_transaction`, the same
checks submit runs) and shows every refusal submit would give — a freeze, suitability,
the amount, a missing holding — plus who must approve. A redemption offers only the
products the customer holds. Saving executes the trade, sends it up its approval chain
(the form closes and the profile says which levels must approve), or shows the refusal.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual import on
from textual.widget import Widget
from textual.widgets import Input, Select, Static

from crm_tui.domain.sales.transactions import PRODUCT_KINDS, TX_KINDS
from crm_tui.i18n import render, t
from crm_tui.screens.form_modal import FormModal
from crm_tui.widgets.form_field import FormField

if TYPE_CHECKING:
    from crm_tui.domain.sales.trade_checks import TradePreview
    from crm_tui.domain.sales.transactions import ProductChoice, TransactionOutcome

KINDS = TX_KINDS
NEEDS_PRODUCT = PRODUCT_KINDS


class TransactionForm(FormModal[str]):
    """Dismisses with the outcome line (executed, or pending with its chain)."""

    SUBMIT_LABEL = "tui.compliance.tx.submit"

    def __init__(self, customer_id: int, customer_name: str) -> None:
        super().__init__(t("tui.compliance.tx.title", name=customer_name))
        self.customer_id = customer_id
        self._catalogue: list[tuple[str, str]] = []
        self._held: list[tuple[str, str]] | None = None

    def fields(self) -> Iterable[Widget]:
        yield FormField("tx_kind", t("field.tx_kind"), Select(
            [(t(f"compliance.tx_kind.{k}"), k) for k in KINDS], value="subscription",
            allow_blank=False, id="tx-kind", compact=True))
        yield FormField("tx_product", t("field.tx_product"), Select(
            [], id="tx-product", compact=True, prompt=t("tui.compliance.tx.pick_product")))
        yield FormField("tx_amount", t("field.tx_amount"), Input(
            id="tx-amount", compact=True, placeholder="1,000,000.00"))
        yield Static("", id="tx-suitability", classes="form-notice", markup=False)

    def on_mount(self) -> None:
        from crm_tui.domain.sales.trade_checks import held_products
        from crm_tui.domain.sales.transactions import list_products

        self.query_one("#tx-kind", Select).focus()
        self.call_domain(list_products, self.crm, self.actor, group="products",
                         on_done=self._products, on_error=self.form_error)
        self.call_domain(held_products, self.crm, self.actor, self.customer_id, group="held",
                         on_done=self._held_products, on_error=self.form_error)
        self._schedule_preview()

    def _products(self, products: list[ProductChoice]) -> None:
        self._catalogue = [(f"{p.code}  {p.name}  {p.risk_level}  {p.currency}", p.code)
                           for p in products]
        self._offer()

    def _held_products(self, rows: list[tuple[str, str, str, str]]) -> None:
        self._held = [(f"{code}  {name}  {risk}  {cur}", code) for code, name, risk, cur in rows]
        self._offer()

    def _offer(self) -> None:
        """A redemption lists only what the customer holds; a sale the whole catalogue."""
        select = self.query_one("#tx-product", Select)
        current = select.value
        options = (self._held or []) if self._kind() == "redemption" else self._catalogue
        select.set_options(options)
        if isinstance(current, str) and current in {code for _, code in options}:
            select.value = current

    @on(Select.Changed, "#tx-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        self.query_one("#row-tx_product").display = event.value in NEEDS_PRODUCT
        self._offer()
        self._schedule_preview()

    @on(Select.Changed, "#tx-product")
    def _product_changed(self) -> None:
        self._schedule_preview()

    @on(Input.Changed, "#tx-amount")
    def _amount_changed(self) -> None:
        self._schedule_preview()

    def _kind(self) -> str:
        value = self.query_one("#tx-kind", Select).value
        return value if isinstance(value, str) else ""

    def _product(self) -> str | None:
        value = self.query_one("#tx-product", Select).value
        return value if isinstance(value, str) and self._kind() in NEEDS_PRODUCT else None

    def _schedule_preview(self) -> None:
        """Every change asks again; an answer overtaken by a newer question is dropped
        (call_domain's generations), so typing fast costs reads, never a stale line."""
        self._preview()

    def _preview(self) -> None:
        from crm_tui.domain.sales.trade_checks import preview_transaction

        kind, product = self._kind(), self._product()
        self.call_domain(preview_transaction, self.crm, self.actor, self.customer_id, kind,
                         self.query_one("#tx-amount", Input).value, product_code=product,
                         group="preview", on_done=self._show_preview,
                         on_error=self.query_one("#tx-suitability", Static).update)

    def _show_preview(self, preview: TradePreview) -> None:
        lines = []
        suit = preview.suitability
        if suit is not None and suit.action != "block":
            lines.append(t(f"tui.compliance.tx.suitability_{suit.action}", reason=render(suit.note)))
        if preview.refusals:
            lines.append(t("tui.ux.preview_refusals"))
            lines += [f"• {r}" for r in preview.refusals]
        elif preview.levels:
            lines.append(t("tui.ux.preview_chain",
                           chain=" → ".join(t(f"role.{r}") for r in preview.levels)))
        line = self.query_one("#tx-suitability", Static)
        line.update("\n".join(lines))
        line.set_class(bool(preview.refusals), "-blocked")

    def submit(self) -> None:
        from crm_tui.domain.sales.transactions import record_transaction

        self.call_form(record_transaction, self.crm, self.actor, self.customer_id, self._kind(),
                       self.query_one("#tx-amount", Input).value, product_code=self._product(),
                       on_done=self._outcome)

    def _outcome(self, outcome: TransactionOutcome) -> None:
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

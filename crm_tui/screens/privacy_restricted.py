"""The restricted view: what compliance sees of a restricted record after giving a reason.
Read-only, under a banner saying why the record is hidden elsewhere and that this look was
recorded; nothing on it edits, reveals or sends."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from crm_tui.i18n import t
from crm_tui.widgets.bindings import TranslatedFooter
from crm_tui.widgets.footer import Footer
from crm_tui.widgets.formatting import day, money, or_dash, risk_label
from crm_tui.widgets.session import UsesCrm
from crm_tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from crm_tui.domain.customers.views import CustomerView


class RestrictedProfileScreen(TranslatedFooter, UsesCrm, Screen[None]):
    DEFAULT_CSS = """
    RestrictedProfileScreen #restricted-banner { background: $error 30%; color: $text;
        padding: 0 1; margin: 0 0 1 0; }
    RestrictedProfileScreen .restricted-section { margin: 1 0 0 0; text-style: bold; }
    RestrictedProfileScreen #restricted-body { padding: 0 1; }
    """
    BINDINGS = [Binding("escape", "back", "tui.key.back", id="restricted-back")]

    def __init__(self, view: CustomerView) -> None:
        super().__init__(classes="restricted-profile")
        self.view = view

    def compose(self) -> ComposeResult:
        v = self.view
        yield StatusBar(self.host.session, t("tui.privacy.restricted_context"))  # type: ignore[arg-type]
        yield Static(t("tui.privacy.restricted_banner", name=v.name), id="restricted-banner",
                     markup=False)
        with VerticalScroll(id="restricted-body"):
            yield Static(self._identity(), id="restricted-identity", markup=False)
            yield Static(t("tui.profile.tab.holdings"), classes="restricted-section")
            yield Static(self._holdings(), id="restricted-holdings", markup=False)
            yield Static(t("tui.privacy.restricted_tags"), classes="restricted-section")
            yield Static("、".join(tag.name for tag in v.tags) or "—", id="restricted-tags",
                         markup=False)
        yield Footer(compact=True)

    def _identity(self) -> str:
        v = self.view
        rows = [
            (t("field.name"), v.name),
            (t("field.national_id"), v.national_id_masked),
            (t("field.phone"), v.phone_masked),
            (t("field.bank_account"), or_dash(v.bank_account_masked)),
            (t("field.birth_date"), day(v.birth_date)),
            (t("field.address"), or_dash(v.address)),
            (t("field.risk_level"), risk_label(v.risk_level)),
            (t("field.aum"), money(v.aum)),
            (t("field.branch_code"), v.branch_name),
            (t("field.rm_username"), v.rm_name),
        ]
        return "\n".join(f"{label}：{value}" for label, value in rows)

    def _holdings(self) -> str:
        return "\n".join(f"{h.product_name}  {money(h.amount)}" for h in self.view.holdings) or "—"

    def action_back(self) -> None:
        self.dismiss(None)

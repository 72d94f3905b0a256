"""Who the customer is: identity and contact, sensitive values masked, plus the
non-sensitive fields the edit form changes (occupation, income, goals)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.widgets import Label, Static

from crm_tui.i18n import t
from crm_tui.widgets.formatting import day, label, moment, money, or_dash
from crm_tui.widgets.masked_value import MaskedValue

if TYPE_CHECKING:
    from crm_tui.domain.views import CustomerView

SENSITIVE = ("national_id", "phone", "bank_account")
PLAIN = ("kind", "id_type", "birth_date", "gender", "email", "address", "occupation",
         "annual_income", "goals", "status", "created_at")
ORDER = ("kind", "id_type", "national_id", "phone", "bank_account", "birth_date", "gender",
         "email", "address", "occupation", "annual_income", "goals", "status", "created_at")


def plain_value(view: CustomerView, field: str, tz: ZoneInfo) -> str:
    if field == "kind":
        return t(f"customer_kind.{view.kind}")
    if field == "id_type":
        return label("tui.id_type", view.id_type)
    if field == "birth_date":
        return day(view.birth_date)
    if field == "gender":
        return t(f"gender.{view.gender}") if view.gender in ("M", "F") else "—"
    if field == "annual_income":
        return money(view.annual_income) if view.annual_income else "—"
    if field == "status":
        return label("tui.customer_status", view.status)
    if field == "created_at":
        return moment(view.created_at, tz)
    return or_dash(getattr(view, field))


class IdentityPanel(Vertical):
    """Label/value rows in a two-column grid; CJK labels line up because the grid sizes
    by cell width, not by character count."""

    DEFAULT_CSS = """
    IdentityPanel { height: auto; }
    IdentityPanel Grid { grid-size: 2; grid-columns: 15 1fr; grid-rows: auto; height: auto; }
    IdentityPanel Label { color: $text-muted; width: 100%; }
    IdentityPanel Static { width: 1fr; }
    """

    def compose(self) -> ComposeResult:
        yield Static(t("tui.profile.identity"), classes="panel-title")
        with Grid():
            for field in ORDER:
                yield Label(t(f"tui.profile.field.{field}"))
                if field in SENSITIVE:
                    yield MaskedValue(field, id=f"masked-{field}")
                else:
                    yield Static("", id=f"value-{field}", markup=False)

    def show(self, view: CustomerView, tz: ZoneInfo, *, may_reveal: bool) -> None:
        for field in SENSITIVE:
            value = self.query_one(f"#masked-{field}", MaskedValue)
            value.revealable = may_reveal
            value.set_masked(getattr(view, f"{field}_masked"))
        for field in PLAIN:
            self.query_one(f"#value-{field}", Static).update(plain_value(view, field, tz))

    def masked(self, field: str) -> MaskedValue:
        return self.query_one(f"#masked-{field}", MaskedValue)

    def remask(self) -> None:
        for value in self.query(MaskedValue):
            value.remask()

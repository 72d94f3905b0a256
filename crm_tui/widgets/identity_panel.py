"""Who the customer is: identity and contact, sensitive values masked, plus the
non-sensitive fields the edit form changes (occupation, income, goals)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.table import Table
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from crm_tui.domain.customers.fields import SENSITIVE_FIELDS
from crm_tui.i18n import t
from crm_tui.widgets.formatting import day, label, moment, money, or_dash
from crm_tui.widgets.masked_value import MaskedValue

if TYPE_CHECKING:
    from crm_tui.domain.customers.views import CustomerView

HEAD = ("kind", "id_type")
SENSITIVE = SENSITIVE_FIELDS
REST = ("birth_date", "gender", "email", "address", "occupation", "annual_income", "goals",
        "status", "created_at")


def plain_value(view: CustomerView, field: str, tz: ZoneInfo) -> str:
    if field == "kind":
        return t(f"customer_kind.{view.kind}")
    if field == "id_type":
        return label("tui.id_type", view.id_type)
    if field == "birth_date":  # beside the masked ID: the year only, by the policy
        if view.birth_date is None and view.birth_year is not None:
            return t("firstweek.birth_year_only", year=view.birth_year)
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


LABEL_CELLS = 15


def fields_table(view: CustomerView, fields: tuple[str, ...], tz: ZoneInfo) -> Table:
    """Label/value rows; rich sizes the label column in cells, so CJK labels line up."""
    table = Table.grid(padding=(0, 0), expand=True)
    table.add_column(width=LABEL_CELLS, style="dim", no_wrap=True)
    table.add_column(ratio=1, overflow="fold")
    for field in fields:
        table.add_row(t(f"tui.profile.field.{field}"), plain_value(view, field, tz))
    return table


class IdentityPanel(Vertical):
    """Plain fields as two tables (few widgets keep the profile quick to open); the three
    sensitive values as focusable `MaskedValue` rows between them, in the usual order."""

    DEFAULT_CSS = """
    IdentityPanel { height: auto; }
    IdentityPanel > Static { width: 1fr; height: auto; }
    """

    def compose(self) -> ComposeResult:
        yield Static(t("tui.profile.identity"), classes="panel-title")
        yield Static("", id="identity-head")
        for field in SENSITIVE:
            yield MaskedValue(field, t(f"tui.profile.field.{field}"), label_cells=LABEL_CELLS,
                              id=f"masked-{field}")
        yield Static("", id="identity-rest")

    def show(self, view: CustomerView, tz: ZoneInfo, *, may_reveal: bool) -> None:
        for field in SENSITIVE:
            value = self.query_one(f"#masked-{field}", MaskedValue)
            value.revealable = may_reveal
            value.set_masked(getattr(view, f"{field}_masked"))
        self.query_one("#identity-head", Static).update(fields_table(view, HEAD, tz))
        self.query_one("#identity-rest", Static).update(fields_table(view, REST, tz))

    def masked(self, field: str) -> MaskedValue:
        return self.query_one(f"#masked-{field}", MaskedValue)

    def remask(self) -> None:
        for value in self.query(MaskedValue):
            value.remask()

"""The profile's custom-fields panel: the fields admins defined, in their sections and
order, labelled in the user's language; sensitive ones masked. Hidden when none exist."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from crm_tui.i18n import language, t
from crm_tui.widgets.data_table import DataTable
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.session import UsesCrm

if TYPE_CHECKING:
    from crm_tui.domain.customers.custom_values import CustomFieldsView


class CustomFieldsPanel(DomainCalls, UsesCrm, Vertical):
    DEFAULT_CSS = """
    CustomFieldsPanel { height: auto; margin-top: 1; display: none; }
    CustomFieldsPanel.-filled { display: block; }
    CustomFieldsPanel > DataTable { height: auto; max-height: 14; }
    """

    def __init__(self, customer_id: int, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.customer_id = customer_id
        self.view: CustomFieldsView | None = None

    def compose(self) -> ComposeResult:
        yield Static(t("tui.forms.panel_title"), classes="panel-title")
        table: DataTable[str] = DataTable(id="custom-fields-table", show_cursor=False,
                                          zebra_stripes=True)
        table.add_column(t("tui.forms.col_section"), key="section", width=10)
        table.add_column(t("tui.forms.col_field"), key="field", width=16)
        table.add_column(t("tui.forms.col_value"), key="value")
        yield table

    def on_mount(self) -> None:
        self.load()

    def load(self) -> None:
        from crm_tui.domain.customers.custom_values import custom_fields_view

        self.call_domain(custom_fields_view, self.crm, self.actor, self.customer_id,
                         group="custom-fields", on_done=self._show)

    def _show(self, view: CustomFieldsView) -> None:
        self.view = view
        table = self.query_one(DataTable)
        table.clear()
        lang = language()
        for v in view.values:
            table.add_row(v.section, v.label(lang), v.text or "—", key=v.key)
        self.set_class(bool(view.values), "-filled")
        self.screen.refresh_bindings()  # the profile offers `u` only when there are fields

    def say(self, text: str, *, ok: bool) -> None:
        self.query_one(Static).update(f"{t('tui.forms.panel_title')} — {text}")

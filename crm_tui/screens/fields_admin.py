"""The admin's custom-fields area: every definition (retired ones on `a`), `n` defines a
new field, `e` edits the highlighted one, `x` retires it. Changes are the same domain calls
as `crm fields …`: validated, versioned and audited; forms everywhere see them at once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from crm_tui.i18n import language, t
from crm_tui.widgets.data_table import DataTable
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.session import UsesCrm

if TYPE_CHECKING:
    from crm_tui.domain.forms.definitions import FieldView

COLUMNS = (("entity", 6), ("key", 16), ("type", 8), ("label", 12), ("flags", 12),
           ("status", 6), ("version", 4))  # fits 80 columns beside the navigation


class FieldsAdminPane(DomainCalls, UsesCrm, Vertical):
    DEFAULT_CSS = """
    FieldsAdminPane #fields-list { height: 1fr; margin-top: 1; }
    FieldsAdminPane #fields-message.-error { color: $error; }
    """
    BINDINGS = [
        Binding("n", "new_field", "tui.forms.key_new", id="field-new"),
        Binding("e", "edit_field", "tui.forms.key_edit", id="field-edit"),
        Binding("x", "retire_field", "tui.forms.key_retire", id="field-retire"),
        Binding("a", "toggle_retired", "tui.forms.key_toggle", id="field-toggle"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="area-pane")
        self.rows: list[FieldView] = []
        self.show_retired = False

    def compose(self) -> ComposeResult:
        yield Static(t("tui.forms.admin_title"), classes="pane-title")
        yield Static(t("tui.forms.admin_hint"), classes="pane-status")
        table: DataTable[str] = DataTable(id="fields-list", cursor_type="row", zebra_stripes=True)
        for key, width in COLUMNS:
            table.add_column(t(f"forms.cli.col_{key}"), key=key, width=width)
        yield table
        yield Static("", id="fields-message", classes="pane-status", markup=False)

    def on_mount(self) -> None:
        self.reload()

    def focus_default(self) -> None:
        self.query_one("#fields-list", DataTable).focus()

    def reload(self) -> None:
        from crm_tui.domain.forms.definitions import list_fields

        self.call_domain(list_fields, self.crm, self.actor, None,
                         include_retired=self.show_retired, group="list", on_done=self._show)

    def _show(self, rows: list[FieldView]) -> None:
        self.rows = rows
        table = self.query_one("#fields-list", DataTable)
        table.clear()
        en = language() == "en"
        for f in rows:
            flags = " ".join(t(f"forms.cli.flag_{name}") for name in ("required", "sensitive",
                                                                       "filterable")
                             if getattr(f, name))
            table.add_row(t(f"tui.forms.entity.{f.entity}"), f.key, t(f"tui.forms.type.{f.type}"),
                          f.label_en if en else f.label_zh, flags,
                          t(f"forms.cli.status_{f.status}"), str(f.version),
                          key=f"{f.entity}.{f.key}")
        if not rows:
            self.say(t("forms.cli.none"), ok=True)

    def _highlighted(self) -> FieldView | None:
        table = self.query_one("#fields-list", DataTable)
        if not self.rows or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def action_toggle_retired(self) -> None:
        self.show_retired = not self.show_retired
        self.reload()

    def action_new_field(self) -> None:
        from crm_tui.screens.field_definition_form import FieldDefinitionForm

        self.app.push_screen(FieldDefinitionForm(None), self._changed)

    def action_edit_field(self) -> None:
        from crm_tui.screens.field_definition_form import FieldDefinitionForm

        f = self._highlighted()
        if f is not None:
            self.app.push_screen(FieldDefinitionForm(f), self._changed)

    @on(DataTable.RowSelected, "#fields-list")
    def _selected(self) -> None:
        self.action_edit_field()

    def action_retire_field(self) -> None:
        from crm_tui.domain.compliance.field_definition_changes import submit_field_change

        f = self._highlighted()
        if f is None or f.status == "retired":
            return

        def done(sub: Any) -> None:
            self._changed(t("forms.cli.retired", entity=f.entity, key=f.key) if sub.view
                          else t("forms_values.requested", id=sub.request_id, entity=f.entity,
                                 key=f.key))

        self.call_domain(submit_field_change, self.crm, self.actor, "retire", f.entity, f.key,
                         group="retire", block=True, on_done=done)

    def _changed(self, text: str | None) -> None:
        if text:
            self.say(text, ok=True)
            self.reload()

    def say(self, text: str, *, ok: bool) -> None:
        line = self.query_one("#fields-message", Static)
        line.update(text)
        line.set_class(not ok, "-error")

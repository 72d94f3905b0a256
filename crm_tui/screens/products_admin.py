"""The admin's product catalogue (f12): every product by code, keyset-paged, on sale or
retired; `i` imports a catalogue file (path typed in), `x` retires the highlighted product.
The rules (fields, idempotence, audit) are the domain's; this pane only shows and asks."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from crm_tui.i18n import t
from crm_tui.widgets.data_table import DataTable
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.session import UsesCrm

PAGE = 200
COLUMNS = ("code", "name", "asset_class", "risk", "currency", "min", "maturity", "issuer",
           "status")


class ProductsAdminPane(UsesCrm, DomainCalls, Vertical):
    DEFAULT_CSS = """
    ProductsAdminPane #catalogue { height: 1fr; margin-top: 1; }
    ProductsAdminPane #catalogue-file { display: none; }
    ProductsAdminPane #catalogue-file.-open { display: block; }
    ProductsAdminPane #catalogue-message.-error { color: $error; }
    """
    BINDINGS = [
        Binding("i", "import_file", "products.key.import", id="catalogue-import"),
        Binding("x", "retire", "products.key.retire", id="catalogue-retire"),
        Binding("r", "reload", "products.key.reload", id="catalogue-reload"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="area-pane")
        self.rows: list[Any] = []
        self._more = False

    def compose(self) -> ComposeResult:
        yield Static(t("products.admin.title"), classes="pane-title")
        yield Input(placeholder=t("products.admin.file_hint"), id="catalogue-file")
        table: DataTable[str | Text] = DataTable(id="catalogue", cursor_type="row",
                                                 zebra_stripes=True)
        for key in COLUMNS:
            table.add_column(t(f"products.cli.col.{key}"), key=key)
        yield table
        yield Static("", id="catalogue-message", classes="pane-status", markup=False)

    def on_mount(self) -> None:
        self.watch(self.query_one("#catalogue", DataTable), "scroll_y", self._scrolled,
                   init=False)
        self.action_reload()

    def focus_default(self) -> None:
        self.query_one("#catalogue", DataTable).focus()

    def say(self, text: str, ok: bool = True) -> None:
        line = self.query_one("#catalogue-message", Static)
        line.update(text)
        line.set_class(not ok, "-error")

    def action_reload(self) -> None:
        self.query_one("#catalogue", DataTable).clear()
        self.rows = []
        self._fetch(None)

    def _fetch(self, after: str | None) -> None:
        from crm_tui.domain.products.catalogue import list_catalogue

        self.call_domain(list_catalogue, self.crm, self.actor, after=after, limit=PAGE,
                         on_done=self._loaded, group="catalogue")

    def _loaded(self, page: list[Any]) -> None:
        table = self.query_one("#catalogue", DataTable)
        for p in page:
            table.add_row(p.code, p.name, t(f"products.asset_class.{p.asset_class}"),
                          p.risk_level, p.currency, Text(f"{p.min_amount:,.2f}", justify="right"),
                          p.maturity_date.isoformat() if p.maturity_date else t("products.open_ended"),
                          p.issuer,
                          t("products.status.active") if p.active
                          else Text(t("products.status.retired"), style="dim"))
        self.rows.extend(page)
        self._more = len(page) == PAGE

    def _scrolled(self, scroll_y: float) -> None:
        table = self.query_one("#catalogue", DataTable)
        if scroll_y >= table.max_scroll_y - 1 and self._more and self.rows:
            self._more = False
            self._fetch(self.rows[-1].code)

    def action_import_file(self) -> None:
        box = self.query_one("#catalogue-file", Input)
        box.add_class("-open")
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        from pathlib import Path

        from crm_tui.domain.data_io.product_files import import_products

        event.stop()
        path = event.value.strip()
        event.input.remove_class("-open")
        event.input.value = ""
        self.focus_default()
        if path:
            self.call_domain(import_products, self.crm, self.actor, Path(path).expanduser(),
                             on_done=self._imported, group="catalogue-import", block=True)

    def _imported(self, report: Any) -> None:
        text = t("products.cli.summary", file=report.file, rows=report.rows,
                 created=report.created, updated=report.updated, unchanged=report.unchanged,
                 rejected=report.rejected)
        if report.errors:
            text += " — " + report.errors[0].line()
        self.say(text, ok=report.ok)
        self.action_reload()

    def action_retire(self) -> None:
        from crm_tui.domain.products.catalogue import retire_product

        table = self.query_one("#catalogue", DataTable)
        if not self.rows or table.cursor_row >= len(self.rows):
            return
        code = self.rows[table.cursor_row].code
        self.call_domain(retire_product, self.crm, self.actor, code, group="catalogue-retire",
                         block=True, on_done=lambda v: (self.say(
                             t("products.cli.retired", code=v.code, name=v.name)),
                             self.action_reload()))

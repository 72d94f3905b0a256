"""The lead list: my leads, the unassigned queue, breached leads (and all in scope), each
with its first-contact countdown. `a` new lead (a form from the field registry), `c` log
the first contact, `t` convert to a customer and an opportunity, `s` reassign
(supervisors), `v` next view, `r` reload, `u` the lead's custom fields, `f` filter by the
filterable custom fields. Pages by keyset from the database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from crm_tui.i18n import t
from crm_tui.widgets.data_table import DataTable
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.formatting import moment
from crm_tui.widgets.session import UsesCrm

if TYPE_CHECKING:
    from crm_tui.domain.sales.leads import LeadView

PAGE = 100
SLA_JOB_SECONDS = 300.0
"""How often an open lead list runs the first-contact SLA job (idempotent, like `crm jobs run`)."""
VIEWS = ("mine", "unassigned", "breached", "all")
COLUMNS = (("id", "col_id", 6), ("name", "col_name", 10), ("source", "col_source", 10),
           ("status", "col_status", 8), ("owner", "col_owner", 8), ("due", "col_due", 16),
           ("countdown", "col_countdown", 14))


def countdown(lead: LeadView, now: datetime) -> Text:
    if lead.first_contact_at is not None:
        return Text(t("tui.leads.done"), style="green" if not lead.breached else "yellow")
    secs = int((lead.first_contact_due - now).total_seconds())
    left = abs(secs)
    span = f"{left // 3600}h{left % 3600 // 60:02d}m"
    if secs < 0:
        return Text(t("tui.leads.overdue", left=span), style="bold red")
    return Text(t("tui.leads.left", left=span), style="yellow" if secs < 4 * 3600 else "")


class LeadListPane(DomainCalls, UsesCrm, Vertical):
    DEFAULT_CSS = """
    LeadListPane #lead-list { height: 1fr; margin-top: 1; background: $background; }
    LeadListPane #lead-message.-error { color: $error; }
    """
    BINDINGS = [
        Binding("a", "new_lead", "tui.leads.key.new", id="lead-new"),
        Binding("c", "contact", "tui.leads.key.contact", id="lead-contact"),
        Binding("t", "convert", "tui.leads.key.convert", id="lead-convert"),
        Binding("s", "reassign", "tui.leads.key.reassign", id="lead-reassign"),
        Binding("v", "next_view", "tui.leads.key.view", id="lead-view"),
        # past the footer's width at 80 columns: shown in the keys panel (Ctrl+P → Keys)
        Binding("u", "custom_fields", "tui.forms.key_edit_custom", id="lead-custom",
                show=False),
        Binding("f", "custom_filter", "forms_values.key_filter", id="lead-custom-filter",
                show=False),
        Binding("r", "reload", "tui.leads.key.reload", id="lead-reload"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="area-pane")
        self.view = "all" if self._supervises() else "mine"
        self.rows: list[LeadView] = []
        self._more = False
        self._now: datetime | None = None
        self.custom_typed: dict[str, str] = {}
        self.custom: tuple[Any, ...] = ()  # filters on custom fields (`f`)

    def _supervises(self) -> bool:
        try:
            return self.actor.role in ("supervisor", "branch_head")
        except Exception:
            return False

    def compose(self) -> ComposeResult:
        yield Static(t("tui.leads.title"), classes="pane-title")
        yield Static("", id="lead-view-line", classes="pane-status", markup=False)
        table: DataTable[str | Text] = DataTable(id="lead-list", cursor_type="row",
                                                 zebra_stripes=True)
        for key, label, width in COLUMNS:
            table.add_column(t(f"tui.leads.{label}"), width=width, key=key)
        yield table
        yield Static("", id="lead-message", classes="pane-status", markup=False)

    def on_mount(self) -> None:
        self.watch(self.query_one("#lead-list", DataTable), "scroll_y", self._scrolled, init=False)
        self.reload()
        self.set_interval(SLA_JOB_SECONDS, self.run_sla_job)

    def run_sla_job(self) -> None:
        """The periodic job inside the app: mark breaches and escalate, then show them."""
        from crm_tui.domain.sales.lead_jobs import run_due

        self.call_domain(run_due, self.crm, datetime.now(UTC),
                         on_done=lambda counts: self.reload() if counts.get("leads_breached")
                         else None, group="sla-job", block=True)

    def focus_default(self) -> None:
        self.query_one("#lead-list", DataTable).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "reassign":
            return self._supervises()
        return True

    def reload(self) -> None:
        from crm_tui.domain.sales.leads import list_leads

        self.query_one("#lead-view-line", Static).update(
            t("tui.leads.showing", view=t(f"tui.leads.view_{self.view}")) + self._filters())
        self._now = datetime.now(UTC)
        self.call_domain(list_leads, self.crm, self.actor, view=self.view, limit=PAGE,
                         now=self._now, custom=self.custom,
                         on_done=lambda rows: self._show(rows, False), group="leads")

    def _show(self, rows: list[LeadView], append: bool) -> None:
        table = self.query_one("#lead-list", DataTable)
        if not append:
            table.clear()
            self.rows = []
        tz, now = self.crm.tz, self._now
        assert now is not None
        for v in rows:
            table.add_row(f"#{v.id}", v.name, t(f"sales.source.{v.source}"),
                          t(f"sales.lead_status.{v.status}"), v.owner or "—",
                          moment(v.first_contact_due, tz), countdown(v, now), key=str(v.id))
        self.rows.extend(rows)
        self._more = len(rows) == PAGE
        if not self.rows:
            self.query_one("#lead-view-line", Static).update(t("tui.leads.none") + self._filters())

    def _filters(self) -> str:
        """The custom-field filter in force, as typed (the view line says it)."""
        return "".join(f" · {k}={v}" for k, v in self.custom_typed.items())

    def _scrolled(self, scroll_y: float) -> None:
        from crm_tui.domain.sales.leads import list_leads

        table = self.query_one("#lead-list", DataTable)
        if scroll_y >= table.max_scroll_y - 1 and self._more and self.rows and not self.busy("more"):
            self.call_domain(list_leads, self.crm, self.actor, view=self.view, limit=PAGE,
                             before_id=self.rows[-1].id, now=self._now, custom=self.custom,
                             on_done=lambda rows: self._show(rows, True), group="more", block=True)

    def action_reload(self) -> None:
        self.reload()

    def action_next_view(self) -> None:
        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
        self.reload()

    def highlighted(self) -> LeadView | None:
        table = self.query_one("#lead-list", DataTable)
        if not table.row_count or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def action_new_lead(self) -> None:
        from crm_tui.domain.sales.leads import create_lead
        from crm_tui.screens.pipeline_forms import RegistryForm

        form = RegistryForm(t("tui.leads.new_title"), "lead",
                            lambda v: create_lead(self.crm, self.actor, v),
                            only=("name", "source", "phone", "national_id", "estimated_assets",
                                  "product_interest", "note"), custom=True)
        self.app.push_screen(form, lambda lid: self._done(t("tui.leads.created", id=lid))
                             if lid else None)

    def action_custom_fields(self) -> None:
        from crm_tui.screens.custom_fields_form import open_custom_form

        lead = self.highlighted()
        if lead is not None:
            open_custom_form(self, "lead", lead.id, lambda text: self._done(text) if text else None)

    def action_custom_filter(self) -> None:
        from crm_tui.screens.custom_fields_form import open_filter_form

        def chosen(result: tuple[dict[str, str], tuple[Any, ...]] | None) -> None:
            if result is not None:
                self.custom_typed, self.custom = result
                self.reload()

        open_filter_form(self, "lead", self.custom_typed, chosen)

    def action_contact(self) -> None:
        from crm_tui.domain.sales.leads import record_contact

        lead = self.highlighted()
        if lead is not None:
            self.call_domain(record_contact, self.crm, self.actor, lead.id,
                             on_done=lambda _: self._done(t("tui.leads.contacted", id=lead.id)),
                             group="act", block=True)

    def action_convert(self) -> None:
        from crm_tui.domain.sales.conversion import convert_lead

        lead = self.highlighted()
        if lead is not None:
            self.call_domain(convert_lead, self.crm, self.actor, lead.id,
                             on_done=lambda opp: self._done(t("tui.leads.converted", id=lead.id,
                                                              opp=opp)),
                             group="act", block=True)

    def action_reassign(self) -> None:
        from crm_tui.domain.sales.leads import reassign
        from crm_tui.screens.pipeline_forms import TextForm

        lead = self.highlighted()
        if lead is None:
            return

        def run(user: str) -> str:
            reassign(self.crm, self.actor, lead.id, user)
            return user

        self.app.push_screen(TextForm(t("tui.leads.reassign_title", id=lead.id), "owner", run),
                             lambda user: self._done(t("tui.leads.reassigned", id=lead.id,
                                                       user=user)) if user else None)

    def _done(self, text: str) -> None:
        self.say(text, ok=True)
        self.reload()

    def say(self, text: str, *, ok: bool) -> None:
        line = self.query_one("#lead-message", Static)
        line.update(text)
        line.set_class(not ok, "-error")

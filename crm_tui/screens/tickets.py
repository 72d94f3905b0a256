"""The ticket queue (f7): my queue, the team's, everything in scope; ordered by time to
breach with a countdown and a colour; filters by type, priority and state; keyset pages
loaded as the list scrolls, so a million tickets cost one index range per page.

Keys: v view · y type · p priority · s state · t take · a assign · enter respond ·
g start/resume/reopen · w wait for customer · x resolve · c close · k complaint · r reload ·
u custom fields · f filter by custom fields.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Static

from crm_tui.i18n import t
from crm_tui.widgets.countdown import countdown
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.formatting import label
from crm_tui.widgets.row_table import RowTable
from crm_tui.widgets.session import UsesCrm

if TYPE_CHECKING:
    from crm_tui.domain.service.queue import QueueFilter, TicketRow

PAGE = 50
TICK_SECONDS = 30.0
ESCALATE_SECONDS = 300.0
VIEWS = ("mine", "team", "all")
TYPES = (None, "inquiry", "transaction_help", "info_change", "complaint", "other")
PRIORITIES = (None, "urgent", "high", "normal", "low")
STATES = (None, "new", "assigned", "in_progress", "waiting_customer", "resolved", "closed")
COLUMNS = (
    ("due", "tui.service.col.due", 8),
    ("id", "tui.service.col.id", 9),  # "! #1000000": seven digits at a million tickets
    ("priority", "tui.service.col.priority", 6),
    ("type", "tui.service.col.type", 10),
    ("state", "tui.service.col.state", 10),
    ("customer", "tui.service.col.customer", 8),
    ("subject", "tui.service.col.subject", 20),
    ("assignee", "tui.service.col.assignee", 6),
    ("queue", "tui.service.col.queue", 8),
)
PRIORITY_STYLE = {"urgent": "bold red", "high": "yellow", "normal": "", "low": "dim"}


def clock() -> datetime:
    """Now, for the countdowns (a function so tests can pin it)."""
    return datetime.now(UTC)


def _cycle(values: tuple[Any, ...], current: Any) -> Any:
    return values[(values.index(current) + 1) % len(values)]


class TicketQueuePane(DomainCalls, UsesCrm, Vertical):
    """The "Tickets" area."""

    DEFAULT_CSS = """
    TicketQueuePane #ticket-table { height: 1fr; margin-top: 1; background: $background; }
    TicketQueuePane #ticket-message.-error { color: $error; }
    """
    BINDINGS = [
        Binding("v", "cycle('view')", "tui.service.key.view", id="ticket-view"),
        Binding("y", "cycle('type')", "tui.service.key.type", id="ticket-type"),
        Binding("p", "cycle('priority')", "tui.service.key.priority", id="ticket-priority"),
        Binding("s", "cycle('state')", "tui.service.key.state", id="ticket-state"),
        Binding("t", "take", "tui.service.key.take", id="ticket-take"),
        Binding("a", "assign", "tui.service.key.assign", id="ticket-assign"),
        Binding("enter", "respond", "tui.service.key.respond", id="ticket-respond"),
        Binding("g", "to_state('in_progress')", "tui.service.key.start", id="ticket-start"),
        Binding("w", "to_state('waiting_customer')", "tui.service.key.wait", id="ticket-wait"),
        Binding("x", "resolve", "tui.service.key.resolve", id="ticket-resolve"),
        Binding("c", "to_state('closed')", "tui.service.key.close", id="ticket-close"),
        Binding("k", "complaint", "tui.service.key.complaint", id="ticket-complaint"),
        Binding("r", "reload", "tui.service.key.reload", id="ticket-reload"),
        # past the footer's width at 120 columns: shown in the keys panel (Ctrl+P → Keys)
        Binding("u", "custom_fields", "tui.forms.key_edit_custom", id="ticket-custom",
                show=False),
        Binding("f", "custom_filter", "forms_values.key_filter", id="ticket-custom-filter",
                show=False),
    ]

    def __init__(self) -> None:
        super().__init__(classes="area-pane")
        self.rows: list[TicketRow] = []
        self.view = "all"
        self.type: str | None = None
        self.priority: str | None = None
        self.state: str | None = None
        self.custom_typed: dict[str, str] = {}
        self.custom: tuple[Any, ...] = ()  # filters on custom fields (`f`)
        self._more = False
        self._tick: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(t("tui.service.queue_title"), classes="pane-title")
        yield Static("", id="ticket-filter", classes="pane-status", markup=False)
        yield RowTable([(key, t(title), width) for key, title, width in COLUMNS], id="ticket-table")
        yield Static("", id="ticket-message", classes="pane-status", markup=False)

    def on_mount(self) -> None:
        if self.actor.role in ("service",):
            self.view = "team"
        elif self.actor.role == "rm":
            self.view = "mine"
        table = self.query_one("#ticket-table", RowTable)
        self.watch(table, "scroll_y", self._scrolled, init=False)
        self._tick = self.set_interval(TICK_SECONDS, self._refresh_countdowns)
        self.set_interval(ESCALATE_SECONDS, self._escalate)
        self.reload()

    def focus_default(self) -> None:
        self.query_one("#ticket-table", RowTable).focus()

    # -- reading -------------------------------------------------------------------------

    def _filter(self) -> QueueFilter:
        from crm_tui.domain.service.queue import QueueFilter

        return QueueFilter(view=self.view, type=self.type, priority=self.priority,
                           state=self.state, custom=self.custom)

    def _describe(self) -> str:
        parts = [t(f"tui.service.view.{self.view}")]
        for prefix, value in (("service.type", self.type), ("service.priority", self.priority),
                              ("service.state", self.state)):
            if value:
                parts.append(t(f"{prefix}.{value}"))
        parts += [f"{k}={v}" for k, v in self.custom_typed.items()]
        return " · ".join(parts)

    def reload(self) -> None:
        from crm_tui.domain.service.queue import queue_page

        self.query_one("#ticket-filter", Static).update(self._describe())
        self.call_domain(queue_page, self.crm, self.actor, self._filter(), limit=PAGE,
                         on_done=lambda rows: self._show(rows, append=False), group="page")

    def _scrolled(self, scroll_y: float) -> None:
        table = self.query_one("#ticket-table", RowTable)
        if scroll_y >= table.max_scroll_y - 1 and self._more and self.rows and not self.busy("page"):
            self._next_page()

    def on_row_table_cursor_moved(self, event: RowTable.CursorMoved) -> None:
        if event.row >= len(self.rows) - 5 and self._more and not self.busy("page"):
            self._next_page()

    def on_row_table_chosen(self, _: RowTable.Chosen) -> None:
        self.action_respond()  # a double click: what Enter does on the highlighted ticket

    def _next_page(self) -> None:
        from crm_tui.domain.service.queue import cursor, queue_page

        self.call_domain(queue_page, self.crm, self.actor, self._filter(),
                         after=cursor(self.rows[-1]), limit=PAGE,
                         on_done=lambda rows: self._show(rows, append=True), group="page")

    def _show(self, rows: list[TicketRow], *, append: bool) -> None:
        table = self.query_one("#ticket-table", RowTable)
        current = self.highlighted() if not append else None
        keep = table.cursor_row if not append else None
        if not append:
            table.clear()
            self.rows = []
        now = clock()
        table.add_rows([self._cells(r, now) for r in rows])
        self.rows.extend(rows)
        self._more = len(rows) == PAGE
        if keep is not None and self.rows:
            # stay on the same ticket when it is still listed (its deadline moved it)
            same = next((i for i, r in enumerate(self.rows) if current and r.id == current.id), None)
            table.move_cursor(row=same if same is not None else min(keep, len(self.rows) - 1))
        if not self.rows:
            self.say(t("tui.service.none"), ok=True)

    def _cells(self, r: TicketRow, now: datetime) -> list[str | Text]:
        flag = Text("! ", style="bold red") if r.breached else Text("")
        return [countdown(r.next_due_at, now, paused=r.paused), Text.assemble(flag, f"#{r.id}"),
                Text(t(f"service.priority.{r.priority}"), style=PRIORITY_STYLE.get(r.priority, "")),
                t(f"service.type.{r.type}"), t(f"service.state.{r.state}"), r.customer_name,
                r.subject, r.assignee or "—", label("service.queue", r.queue)]

    def _refresh_countdowns(self) -> None:
        table = self.query_one("#ticket-table", RowTable)
        now = clock()
        for i, r in enumerate(self.rows):
            table.update_cell(i, "due", countdown(r.next_due_at, now, paused=r.paused))

    def _escalate(self) -> None:
        from crm_tui.domain.service.escalation import escalate_breaches

        self.call_domain(escalate_breaches, self.crm, datetime.now(UTC), group="escalate",
                         block=True, on_done=lambda n: self.reload() if n else None,
                         on_error=lambda _text: None)

    # -- actions ---------------------------------------------------------------------------

    def action_cycle(self, what: str) -> None:
        if what == "view":
            self.view = _cycle(VIEWS, self.view)
        elif what == "type":
            self.type = _cycle(TYPES, self.type)
        elif what == "priority":
            self.priority = _cycle(PRIORITIES, self.priority)
        elif what == "state":
            self.state = _cycle(STATES, self.state)
        self.reload()

    def action_reload(self) -> None:
        self.reload()

    def highlighted(self) -> TicketRow | None:
        table = self.query_one("#ticket-table", RowTable)
        if not table.row_count or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def _run(self, fn: Any, *args: Any, done: str, **kwargs: Any) -> None:
        ticket = self.highlighted()
        if ticket is None:
            return
        self.call_domain(fn, self.crm, self.actor, ticket.id, *args, version=ticket.version,
                         on_done=lambda _r: self._changed(t(done, id=ticket.id)), group="act",
                         block=True, **kwargs)

    def _changed(self, text: str) -> None:
        self.say(text, ok=True)
        self.reload()
        refresh = getattr(self.screen, "refresh_badges", None)
        if refresh is not None:
            refresh()

    def action_take(self) -> None:
        from crm_tui.domain.service.tickets import assign_ticket

        self._run(assign_ticket, None, done="tui.service.done.taken")

    def action_to_state(self, target: str) -> None:
        from crm_tui.domain.service.tickets import change_state

        self._run(change_state, target, done=f"tui.service.done.{target}")

    def action_assign(self) -> None:
        from crm_tui.screens.ticket_forms import TicketTextModal

        ticket = self.highlighted()
        if ticket is not None:
            self.app.push_screen(TicketTextModal("assign", ticket.id, ticket.version), self._modal_done)

    def action_respond(self) -> None:
        from crm_tui.screens.ticket_forms import TicketTextModal

        ticket = self.highlighted()
        if ticket is not None:
            self.app.push_screen(TicketTextModal("respond", ticket.id, ticket.version), self._modal_done)

    def action_resolve(self) -> None:
        from crm_tui.screens.ticket_forms import TicketTextModal

        ticket = self.highlighted()
        if ticket is not None:
            self.app.push_screen(TicketTextModal("resolve", ticket.id, ticket.version), self._modal_done)

    def action_custom_fields(self) -> None:
        from crm_tui.screens.custom_fields_form import open_custom_form

        ticket = self.highlighted()
        if ticket is not None:
            open_custom_form(self, "ticket", ticket.id, self._modal_done)

    def action_custom_filter(self) -> None:
        from crm_tui.screens.custom_fields_form import open_filter_form

        def chosen(result: tuple[dict[str, str], tuple[Any, ...]] | None) -> None:
            if result is not None:
                self.custom_typed, self.custom = result
                self.reload()

        open_filter_form(self, "ticket", self.custom_typed, chosen)

    def action_complaint(self) -> None:
        from crm_tui.screens.complaint import ComplaintModal

        ticket = self.highlighted()
        if ticket is None:
            return
        if ticket.type != "complaint":
            self.say(t("tui.service.not_complaint", id=ticket.id), ok=False)
            return
        self.app.push_screen(ComplaintModal(ticket.id), self._modal_done)

    def _modal_done(self, text: str | None) -> None:
        if text:
            self._changed(text)

    def say(self, text: str, *, ok: bool) -> None:
        line = self.query_one("#ticket-message", Static)
        line.update(text)
        line.set_class(not ok, "-error")

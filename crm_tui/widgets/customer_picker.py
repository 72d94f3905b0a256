"""Pick one customer inside a form: type a name, pinyin initials or a phone tail, and the
customer search (`customers.search.search_customers`, in the viewer's scope, her own
customers first) answers in a worker after a short pause; the highlighted answer is the
choice. The newest query wins: an answer to an older one is dropped."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from crm_tui.i18n import t
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.session import UsesCrm

if TYPE_CHECKING:
    from crm_tui.domain.customers.views import CustomerSummary

DEBOUNCE_SECONDS = 0.25
LIMIT = 8


class CustomerPicker(DomainCalls, UsesCrm, Vertical):
    DEFAULT_CSS = """
    CustomerPicker { height: auto; }
    CustomerPicker > OptionList { height: auto; max-height: 6; border: none; padding: 0; }
    CustomerPicker > .picker-status { color: $text-muted; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rows: list[CustomerSummary] = []
        self.chosen: CustomerSummary | None = None
        self._timer: Timer | None = None
        self._query = ""

    def compose(self) -> ComposeResult:
        yield Input(id="picker-query", compact=True, placeholder=t("formstui.picker.hint"))
        yield OptionList(id="picker-results", compact=True)
        yield Static(t("formstui.picker.none_chosen"), id="picker-status",
                     classes="picker-status", markup=False)

    def focus(self, scroll_visible: bool = True) -> CustomerPicker:
        """A field error on the customer puts the cursor back in the search box."""
        self.query_one("#picker-query", Input).focus(scroll_visible)
        return self

    @on(Input.Changed, "#picker-query")
    def _typed(self, event: Input.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
        query = event.value.strip()
        if query:
            self._timer = self.set_timer(DEBOUNCE_SECONDS, lambda: self.search(query))

    @on(Input.Submitted, "#picker-query")
    def _submitted(self, event: Input.Submitted) -> None:
        """Enter searches at once (the form then moves on to the answers)."""
        query = event.value.strip()
        if query and query != self._query:
            if self._timer is not None:
                self._timer.stop()
            self.search(query)

    def search(self, query: str) -> None:
        from crm_tui.domain.customers.search import search_customers

        self._query = query
        self.call_domain(search_customers, self.crm, self.actor, query, limit=LIMIT,
                         group="picker", on_done=self._answer,
                         on_error=lambda text: self._status(text))

    def _answer(self, rows: list[CustomerSummary]) -> None:
        self.rows = rows
        options = self.query_one("#picker-results", OptionList)
        options.clear_options()
        options.add_options([Option(f"{r.name}  {r.phone_masked or ''}  {r.rm_name or ''}",
                                    id=str(r.id)) for r in rows])
        if rows:
            options.highlighted = 0
            self._choose(rows[0])
        else:
            self.chosen = None
            self._status(t("tui.search.none", query=self._query))

    @on(OptionList.OptionHighlighted, "#picker-results")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if 0 <= event.option_index < len(self.rows):
            self._choose(self.rows[event.option_index])

    @on(OptionList.OptionSelected, "#picker-results")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on an answer takes it and moves on, as Enter does in any form field."""
        event.stop()
        if 0 <= event.option_index < len(self.rows):
            self._choose(self.rows[event.option_index])
            self.screen.focus_next()

    def _choose(self, row: CustomerSummary) -> None:
        self.chosen = row
        self._status(t("formstui.picker.chosen", name=row.name))

    def _status(self, text: str) -> None:
        self.query_one("#picker-status", Static).update(text)

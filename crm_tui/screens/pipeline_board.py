"""The pipeline board (销售看板): six columns, needs → matching → proposal → closing, then
won and lost, each with its count and total, cards paged from the database.

Keys: ←/→ change column, ↑/↓ pick a card, Shift+→ / Shift+← move the card to the next or
previous stage (only along allowed transitions: a refused move says why), `l` marks it
lost with a reason, `n` needs questionnaire, `k` risk questionnaire, `p` choose a product
from the matching list, `g` generate the proposal, `b` the customer's
feedback on it, `f` filter (owner, team, product, period and the filterable custom fields),
`r` reload, `u` the opportunity's custom fields, `a` a new opportunity. With the mouse:
click a card, then click another column (its header or its cards) to move it there, or drag
the card onto that column.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalScroll, Vertical
from textual.widgets import Static

from crm_tui.i18n import t
from crm_tui.widgets.card_list import CardList
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.kanban_column import KanbanColumn
from crm_tui.widgets.session import UsesCrm

if TYPE_CHECKING:
    from crm_tui.domain.sales.board import Board, BoardFilter, Card, Column

STAGES = ("needs", "matching", "proposal", "closing", "won", "lost")
PAGE = 25
FIRST_PAGE = 12


class BoardRow(HorizontalScroll, inherit_bindings=False):
    """The columns side by side; ←/→ are the board's (change column), not a scroll."""


class PipelineBoardPane(DomainCalls, UsesCrm, Vertical):
    DEFAULT_CSS = """
    PipelineBoardPane #board { height: 1fr; }
    PipelineBoardPane #board-message.-error { color: $error; }
    """
    BINDINGS = [
        Binding("left", "column(-1)", "tui.pipeline.key.prev_col", show=False),
        Binding("right", "column(1)", "tui.pipeline.key.next_col", show=False),
        Binding("shift+right", "move(1)", "tui.pipeline.key.forward", id="board-forward"),
        Binding("shift+left", "move(-1)", "tui.pipeline.key.back", id="board-back"),
        Binding("l", "lost", "tui.pipeline.key.lost", id="board-lost"),
        Binding("n", "needs", "tui.pipeline.key.needs", id="board-needs"),
        Binding("k", "risk", "tui.pipeline.key.risk", id="board-risk"),
        Binding("p", "product", "tui.pipeline.key.product", id="board-product"),
        Binding("g", "proposal", "tui.pipeline.key.proposal", id="board-proposal"),
        Binding("b", "feedback", "tui.pipeline.key.feedback", id="board-feedback"),
        Binding("f", "filter", "tui.pipeline.key.filter", id="board-filter"),
        # past the footer's width: shown in the keys panel (Ctrl+P → Keys)
        Binding("u", "custom_fields", "tui.forms.key_edit_custom", id="board-custom",
                show=False),
        Binding("a", "new_opportunity", "formstui.key.new_opportunity", id="board-new",
                show=False),
        Binding("r", "reload", "tui.pipeline.key.reload", id="board-reload"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="area-pane")
        self.filter_values: dict[str, str] = {}
        self.custom_typed: dict[str, str] = {}  # filterable custom fields, as typed
        self.board_filter: BoardFilter | None = None
        self.picked: Card | None = None  # clicked, waiting for a click on its new column
        self.dragged: Card | None = None  # mouse button held down on it
        self._count_after_paint = False

    def compose(self) -> ComposeResult:
        yield Static(t("tui.pipeline.title"), classes="pane-title")
        yield Static("", id="board-filter-line", classes="pane-status", markup=False)
        with BoardRow(id="board"):
            for stage in STAGES:
                yield KanbanColumn(stage)
        yield Static("", id="board-message", classes="pane-status", markup=False)

    def on_mount(self) -> None:
        self.reload()

    def focus_default(self) -> None:
        self.column("needs").focus_cards()

    def column(self, stage: str) -> KanbanColumn:
        return self.query_one(f"#col-{stage}", KanbanColumn)

    # -- loading ---------------------------------------------------------------------

    def reload(self) -> None:
        """The cards first (short index ranges), painted; then the heads' counts and totals
        (a scan of the scope's index entries), which would only slow the cards down."""
        from crm_tui.domain.sales.board import first_pages

        bits = [f"{t('field.' + k)}={v}" for k, v in self.filter_values.items() if v]
        bits += [f"{k}={v}" for k, v in self.custom_typed.items()]
        self.query_one("#board-filter-line", Static).update(
            t("tui.pipeline.filtered", filters=", ".join(bits)) if bits else t("tui.pipeline.scope"))
        self.call_domain(first_pages, self.crm, self.actor, self.board_filter, limit=FIRST_PAGE,
                         on_done=self._painted, group="board")
        self.cancel_calls("heads")  # a count still on its way is for the old filter
        self._count_after_paint = True

    def _count(self) -> None:
        from crm_tui.domain.sales.board import columns

        self.call_domain(columns, self.crm, self.actor, self.board_filter,
                         on_done=self._counted, group="heads")

    def _counted(self, heads: list[Column]) -> None:
        for col in heads:
            self.column(col.stage).set_head(col.count, col.total)

    def _painted(self, board: Board) -> None:
        for stage, cards in board.pages.items():
            self.column(stage).show_page(cards, append=False, page=FIRST_PAGE, now=board.now)
        if self._count_after_paint:  # once the cards are on screen, not competing with them
            self._count_after_paint = False
            self.call_after_refresh(self._count)

    @on(KanbanColumn.NeedMore)
    def _more(self, event: KanbanColumn.NeedMore) -> None:
        from crm_tui.domain.sales.board import column_cards

        col = event.column
        last = col.cards[-1]
        now = datetime.now(UTC)
        self.call_domain(column_cards, self.crm, self.actor, col.stage, self.board_filter,
                         after=(last.stage_entered_at, last.id), limit=PAGE, now=now,
                         on_done=lambda cards: col.show_page(cards, append=True, page=PAGE, now=now),
                         group=f"more-{col.stage}")

    def action_reload(self) -> None:
        self.reload()

    # -- navigation ------------------------------------------------------------------

    def current(self) -> KanbanColumn:
        focused = self.app.focused
        for stage in STAGES:
            col = self.column(stage)
            if focused is not None and col in focused.ancestors_with_self:
                return col
        return self.column("needs")

    def action_column(self, step: int) -> None:
        i = STAGES.index(self.current().stage)
        target = self.column(STAGES[max(0, min(len(STAGES) - 1, i + step))])
        target.focus_cards()
        target.scroll_visible()

    # -- moves -------------------------------------------------------------------------

    def selected(self) -> Card | None:
        card = self.current().selected()
        if card is None:
            self.say(t("tui.pipeline.no_card"), ok=False)
        return card

    def action_move(self, step: int) -> None:
        card = self.selected()
        if card is None:
            return
        i = STAGES.index(card.stage) + step
        if not 0 <= i < len(STAGES) - 1:  # nothing moves onto lost by arrow; use `l`
            self.say(t("tui.pipeline.no_further"), ok=False)
            return
        self.move_to(card, STAGES[i])

    def move_to(self, card: Card, stage: str, reason: str | None = None) -> None:
        from crm_tui.domain.sales.opportunities import move

        self.call_domain(move, self.crm, self.actor, card.id, stage, reason=reason,
                         on_done=lambda new: self._moved(card, new), group="move", block=True)

    def _moved(self, card: Card, stage: str) -> None:
        self.say(t("tui.pipeline.moved", customer=card.customer,
                   stage=t(f"sales.stage.{stage}")), ok=True)
        self.reload()
        self.call_later(lambda: self.column(stage).focus_cards())

    # -- the mouse: click a card then a column, or drag a card onto a column -----------------

    @on(CardList.Clicked)
    def _card_clicked(self, event: CardList.Clicked) -> None:
        column = self._column_of(event.cards)
        if self.picked is not None and self.picked.stage != column.stage:
            self._drop(column)
            return
        self.picked = event.card
        self.say(t("tui.pipeline.picked", customer=event.card.customer), ok=True)

    @on(KanbanColumn.Clicked)
    def _column_clicked(self, event: KanbanColumn.Clicked) -> None:
        if self.picked is not None and self.picked.stage != event.column.stage:
            self._drop(event.column)

    @on(CardList.Pressed)
    def _pressed(self, event: CardList.Pressed) -> None:
        self.dragged = event.card

    @on(KanbanColumn.Released)
    def _released(self, event: KanbanColumn.Released) -> None:
        card, self.dragged = self.dragged, None
        if card is not None and card.stage != event.column.stage:
            self.picked = card
            self._drop(event.column)

    def _drop(self, column: KanbanColumn) -> None:
        card, self.picked = self.picked, None
        if card is None:
            return
        if column.stage == "lost":
            self._ask_lost(card)
        else:
            self.move_to(card, column.stage)

    def _column_of(self, cards: CardList) -> KanbanColumn:
        return next(col for col in self.query(KanbanColumn) if col.card_list is cards)

    def action_lost(self) -> None:
        card = self.selected()
        if card is not None:
            self._ask_lost(card)

    def _ask_lost(self, card: Card) -> None:
        from crm_tui.screens.pipeline_forms import LostForm

        crm = self.crm

        def open_form(reasons: list[str]) -> None:  # the policy read runs in a worker
            self.app.push_screen(LostForm(t("tui.pipeline.lost_title", customer=card.customer),
                                          card.id, reasons),
                                 lambda done: self._moved(card, "lost") if done else None)

        self.call_domain(lambda: list(crm.policy().sales.lost_reasons), on_done=open_form,
                         group="lost-reasons", block=True)

    # -- forms -----------------------------------------------------------------------------

    def action_needs(self) -> None:
        from crm_tui.domain.sales.questionnaires import submit_needs
        from crm_tui.screens.pipeline_forms import RegistryForm

        card = self.selected()
        if card is not None:
            self.app.push_screen(RegistryForm(
                t("tui.pipeline.needs_title", customer=card.customer), "needs_questionnaire",
                lambda v: submit_needs(self.crm, self.actor, card.customer_id, v)),
                lambda v: self.say(t("tui.pipeline.needs_saved", version=v), ok=True) if v else None)

    def action_risk(self) -> None:
        from crm_tui.domain.sales.questionnaires import submit_risk
        from crm_tui.screens.pipeline_forms import RegistryForm

        card = self.selected()
        if card is not None:
            self.app.push_screen(RegistryForm(
                t("tui.pipeline.risk_title", customer=card.customer), "risk_questionnaire",
                lambda v: submit_risk(self.crm, self.actor, card.customer_id, v)),
                lambda lv: self.say(t("tui.pipeline.risk_saved", level=lv), ok=True) if lv else None)

    def action_product(self) -> None:
        from crm_tui.domain.sales.matching import match_products

        card = self.selected()
        if card is not None:
            self.call_domain(match_products, self.crm, self.actor, card.id,
                             on_done=lambda ms: self._choose(card, ms), group="match")

    def _choose(self, card: Card, matches: list[Any]) -> None:
        from crm_tui.screens.pipeline_forms import ProductForm

        self.app.push_screen(ProductForm(t("tui.pipeline.product_title", customer=card.customer),
                                         card.id, matches),
                             lambda code: self._after(t("tui.pipeline.product_saved", code=code))
                             if code else None)

    def action_proposal(self) -> None:
        from crm_tui.domain.sales.proposals import make_proposal

        card = self.selected()
        if card is not None:
            self.call_domain(make_proposal, self.crm, self.actor, card.id,
                             on_done=lambda pid: self._after(t("tui.pipeline.proposal_saved",
                                                               id=pid)), group="proposal")

    def action_feedback(self) -> None:
        from crm_tui.screens.pipeline_forms import FeedbackForm

        card = self.selected()
        if card is not None:
            self.app.push_screen(FeedbackForm(t("tui.pipeline.feedback_title",
                                                customer=card.customer), card.id),
                                 lambda pid: self.say(t("tui.pipeline.feedback_saved", id=pid),
                                                      ok=True) if pid else None)

    def _after(self, text: str) -> None:
        self.say(text, ok=True)
        self.reload()

    def action_custom_fields(self) -> None:
        from crm_tui.screens.custom_fields_form import open_custom_form

        card = self.selected()
        if card is not None:
            open_custom_form(self, "opportunity", card.id,
                             lambda text: self._after(text) if text else None)

    def action_filter(self) -> None:
        """The board's filter with the filterable custom fields below the built-in ones
        (read first, in a worker)."""
        from crm_tui.domain.forms.filters import filterable_fields
        from crm_tui.screens.pipeline_forms import FilterForm

        def loaded(fields: tuple[Any, ...]) -> None:
            self.app.push_screen(FilterForm(t("tui.pipeline.filter_title"), self.filter_values,
                                            fields, self.custom_typed), self._filtered)

        self.call_domain(filterable_fields, self.crm, "opportunity", group="custom-fields",
                         on_done=loaded)

    def _filtered(self, result: Any) -> None:
        if result:
            self.filter_values, self.custom_typed, self.board_filter = result
            self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "new_opportunity":
            from crm_tui.domain.kernel.permissions import Perm, can

            return can(self.actor, Perm.CUSTOMER_EDIT)
        return True

    def action_new_opportunity(self) -> None:
        from crm_tui.screens.opportunity_form import open_new_opportunity

        open_new_opportunity(self, self._after)

    def say(self, text: str, *, ok: bool) -> None:
        line = self.query_one("#board-message", Static)
        line.update(text)
        line.set_class(not ok, "-error")

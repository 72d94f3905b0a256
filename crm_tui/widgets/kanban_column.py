"""One column of the pipeline board: a header (stage, count, total) and its cards, paged
from the database by keyset as the cursor nears the end. The column knows nothing of the
domain; the board hands it pages and asks for more through `NeedMore`. Mouse: a click on
the header or the cards posts `Clicked` (the board moves a picked card here), a mouse
button released over the column posts `Released` (the end of a drag)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from crm_tui.i18n import t
from crm_tui.widgets.card_list import CardList, CardText
from crm_tui.widgets.formatting import money

if TYPE_CHECKING:
    from crm_tui.domain.sales.board import Card

MORE_WHEN_LEFT = 5


def card_text(card: Card, now: datetime) -> CardText:
    """Customer / amount · product (the amount first: a long product name is cut, not the
    amount) / age in stage and the SLA badge."""
    badge, style = "", ""
    if card.breached:
        badge, style = t("tui.pipeline.badge_breached"), "bold red"
    elif card.first_contact_due is not None and card.first_contact_at is None:
        badge, style = t("tui.pipeline.badge_due"), "yellow"
    return CardText(card.customer,
                    f"{money(card.amount)} · {card.product or t('tui.pipeline.no_product')}",
                    t("tui.pipeline.age", age=card.age(now)), badge, style)


class KanbanColumn(Vertical):
    DEFAULT_CSS = """
    KanbanColumn { width: 22; height: 1fr; border: round $panel; margin-right: 1; }
    KanbanColumn:focus-within { border: round $accent; }
    KanbanColumn.-target { border: round $success; }
    KanbanColumn > .kanban-head { height: 2; padding: 0 1; color: $primary; text-style: bold; }
    KanbanColumn > CardList { height: 1fr; }
    """

    class NeedMore(Message):
        def __init__(self, column: KanbanColumn) -> None:
            super().__init__()
            self.column = column

    class Clicked(Message):
        def __init__(self, column: KanbanColumn) -> None:
            super().__init__()
            self.column = column

    class Released(Message):
        def __init__(self, column: KanbanColumn) -> None:
            super().__init__()
            self.column = column

    def __init__(self, stage: str) -> None:
        super().__init__(id=f"col-{stage}", classes="kanban-column")
        self.stage = stage
        self.more = False
        self.loading = False
        self.count = 0

    def compose(self) -> ComposeResult:
        yield Static(t(f"sales.stage.{self.stage}"), classes="kanban-head")
        yield CardList(id=f"cards-{self.stage}")

    @property
    def card_list(self) -> CardList:
        return self.query_one(CardList)

    @property
    def cards(self) -> list[Card]:
        return self.card_list.cards

    def set_head(self, count: int, total: object) -> None:
        self.count = count
        head = Text(t(f"sales.stage.{self.stage}"), style="bold")
        head.append(f"  {count:,}\n", style="")
        head.append(money(total), style="dim")  # type: ignore[arg-type]
        self.query_one(".kanban-head", Static).update(head)

    def show_page(self, cards: list[Card], *, append: bool, page: int, now: datetime) -> None:
        self.card_list.set_cards(cards, [card_text(c, now) for c in cards], append=append)
        self.more = len(cards) == page
        self.loading = False

    def selected(self) -> Card | None:
        return self.card_list.selected()

    def on_card_list_highlighted(self, event: CardList.Highlighted) -> None:
        if (self.more and not self.loading
                and event.index >= len(self.cards) - MORE_WHEN_LEFT):
            self.loading = True
            self.post_message(self.NeedMore(self))

    def on_click(self, event: events.Click) -> None:
        self.post_message(self.Clicked(self))

    def on_mouse_up(self, event: events.MouseUp) -> None:
        self.post_message(self.Released(self))

    def focus_cards(self) -> None:
        self.card_list.focus()

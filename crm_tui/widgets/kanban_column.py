"""One column of the pipeline board: a header (stage, count, total) and its cards, paged
from the database by keyset as the cursor nears the end. The column knows nothing of the
domain; the board hands it pages and asks for more through `NeedMore`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from crm_tui.i18n import t
from crm_tui.widgets.formatting import money

if TYPE_CHECKING:
    from crm_tui.domain.sales.board import Card

MORE_WHEN_LEFT = 5


def card_prompt(card: Card, now: datetime) -> Text:
    """Customer / product · amount / age in stage and the SLA badge."""
    text = Text(card.customer, style="bold", no_wrap=True, overflow="ellipsis")
    text.append("\n")
    text.append(f"{card.product or t('tui.pipeline.no_product')} · {money(card.amount)}",
                style="dim")
    text.append("\n")
    text.append(t("tui.pipeline.age", age=card.age(now)), style="dim")
    if card.breached:
        text.append("  " + t("tui.pipeline.badge_breached"), style="bold red")
    elif card.first_contact_due is not None and card.first_contact_at is None:
        text.append("  " + t("tui.pipeline.badge_due"), style="yellow")
    text.append("\n")  # a blank line between cards
    return text


class KanbanColumn(Vertical):
    DEFAULT_CSS = """
    KanbanColumn { width: 22; height: 1fr; border: round $panel; margin-right: 1; }
    KanbanColumn:focus-within { border: round $accent; }
    KanbanColumn.-target { border: round $success; }
    KanbanColumn > .kanban-head { height: 2; padding: 0 1; color: $primary; text-style: bold; }
    KanbanColumn > OptionList { height: 1fr; border: none; padding: 0; background: $background; }
    KanbanColumn > OptionList:focus { border: none; }
    """

    class NeedMore(Message):
        def __init__(self, column: KanbanColumn) -> None:
            super().__init__()
            self.column = column

    class HeadClicked(Message):
        def __init__(self, column: KanbanColumn) -> None:
            super().__init__()
            self.column = column

    def __init__(self, stage: str) -> None:
        super().__init__(id=f"col-{stage}", classes="kanban-column")
        self.stage = stage
        self.cards: list[Card] = []
        self.more = False
        self.loading = False
        self.count = 0

    def compose(self) -> ComposeResult:
        yield Static(t(f"sales.stage.{self.stage}"), classes="kanban-head")
        yield OptionList(id=f"cards-{self.stage}")

    @property
    def option_list(self) -> OptionList:
        return self.query_one(OptionList)

    def set_head(self, count: int, total: object) -> None:
        self.count = count
        head = Text(t(f"sales.stage.{self.stage}"), style="bold")
        head.append(f"  {count:,}\n", style="")
        head.append(money(total), style="dim")  # type: ignore[arg-type]
        self.query_one(".kanban-head", Static).update(head)

    def show_page(self, cards: list[Card], *, append: bool, page: int, now: datetime) -> None:
        ol = self.option_list
        keep = ol.highlighted
        if not append:
            ol.clear_options()
            self.cards = []
        ol.add_options([Option(card_prompt(c, now), id=str(c.id)) for c in cards])
        self.cards.extend(cards)
        self.more = len(cards) == page
        self.loading = False
        if append and keep is not None:
            ol.highlighted = keep
        elif self.cards and ol.highlighted is None:
            ol.highlighted = 0

    def selected(self) -> Card | None:
        index = self.option_list.highlighted
        if index is None or index >= len(self.cards):
            return None
        return self.cards[index]

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if (self.more and not self.loading
                and event.option_index >= len(self.cards) - MORE_WHEN_LEFT):
            self.loading = True
            self.post_message(self.NeedMore(self))

    def on_click(self, event: object) -> None:
        widget = getattr(event, "widget", None)
        if isinstance(widget, Static):
            self.post_message(self.HeadClicked(self))

    def focus_cards(self) -> None:
        self.option_list.focus()

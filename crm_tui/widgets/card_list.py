"""A column's cards drawn through Textual's Line API: one strip per visible line, built
from a few segments, so painting a board of six columns costs only the lines on screen.
(An OptionList wraps and measures every option's rich text first; at board size that was
most of the first paint.)

Each card is four lines: customer, product · amount, age in stage and the SLA badge, and
a blank. ↑/↓/PgUp/PgDn/Home/End move the cursor; a click puts it on the card under the
mouse. The list posts `Highlighted` when the cursor moves, `Clicked` on a click and
`Pressed` on a mouse press (the start of a drag)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

if TYPE_CHECKING:
    from crm_tui.domain.sales.board import Card

CARD_LINES = 4


@dataclass(frozen=True)
class CardText:
    """A card's three lines, formatted once when its page arrives."""

    title: str
    detail: str
    age: str
    badge: str
    badge_style: str


class CardList(ScrollView, can_focus=True, inherit_bindings=False):
    COMPONENT_CLASSES = {"card-list--cursor", "card-list--title", "card-list--dim"}
    DEFAULT_CSS = """
    CardList { background: $background; }
    CardList > .card-list--title { text-style: bold; }
    CardList > .card-list--dim { color: $text-muted; }
    CardList > .card-list--cursor { background: $block-cursor-blurred-background; }
    CardList:focus > .card-list--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground;
    }
    """
    BINDINGS = [
        Binding("up", "cursor(-1)", show=False),
        Binding("down", "cursor(1)", show=False),
        Binding("pageup", "cursor(-5)", show=False),
        Binding("pagedown", "cursor(5)", show=False),
        Binding("home", "cursor(-1000000)", show=False),
        Binding("end", "cursor(1000000)", show=False),
    ]

    class Highlighted(Message):
        def __init__(self, cards: CardList, index: int) -> None:
            super().__init__()
            self.cards = cards
            self.index = index

    class Clicked(Message):
        def __init__(self, cards: CardList, card: Card) -> None:
            super().__init__()
            self.cards = cards
            self.card = card

    class Pressed(Message):
        def __init__(self, cards: CardList, card: Card) -> None:
            super().__init__()
            self.cards = cards
            self.card = card

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id)
        self.cards: list[Card] = []
        self.texts: list[CardText] = []
        self.cursor: int | None = None
        self._height = 1
        self._styles: tuple[Style, ...] = (Style(),) * 4

    def set_cards(self, cards: list[Card], texts: list[CardText], *, append: bool) -> None:
        if append:
            self.cards.extend(cards)
            self.texts.extend(texts)
        else:
            self.cards, self.texts = list(cards), list(texts)
            self.cursor = None
            self.scroll_to(y=0, animate=False)
        self.virtual_size = Size(0, len(self.cards) * CARD_LINES)
        if self.cursor is None and self.cards:
            self.cursor = 0
        elif self.cursor is not None and self.cursor >= len(self.cards):
            self.cursor = len(self.cards) - 1 if self.cards else None
        self.refresh()

    # -- drawing ------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        # the styles once per render, not per line (each walks the ancestors)
        self._styles = (self.rich_style, self.get_component_rich_style("card-list--cursor"),
                        self.get_component_rich_style("card-list--title", partial=True),
                        self.get_component_rich_style("card-list--dim", partial=True))
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base, cursor, title, dimmed = self._styles
        index, line = divmod(y + self.scroll_offset.y, CARD_LINES)
        if index >= len(self.texts) or line == CARD_LINES - 1:
            return Strip.blank(width, base)
        style = base
        if index == self.cursor:
            style = base + cursor
        text = self.texts[index]
        if line == 0:
            segments = [Segment(text.title, style + title)]
        else:
            dim = style + dimmed
            segments = [Segment(text.detail if line == 1 else text.age, dim)]
            if line == 2 and text.badge:
                segments.append(Segment("  " + text.badge, style + Style.parse(text.badge_style)))
        strip = Strip(segments)
        if strip.cell_length > width:  # cut with an ellipsis
            strip = Strip.join([strip.crop(0, width - 1), Strip([Segment("…", style)])])
        return strip.adjust_cell_length(width, style)

    # -- cursor -------------------------------------------------------------------------

    def move_cursor(self, index: int) -> None:
        if not self.cards:
            return
        index = max(0, min(len(self.cards) - 1, index))
        if index != self.cursor:
            self.cursor = index
            self.refresh()
            self.post_message(self.Highlighted(self, index))
        top = index * CARD_LINES
        if self.size.height:  # (zero for a moment while a new page's layout is pending)
            self._height = self.size.height
        height = self._height
        if top < self.scroll_offset.y:
            self.scroll_to(y=top, animate=False, immediate=True)
        elif top + CARD_LINES > self.scroll_offset.y + height:
            self.scroll_to(y=top + CARD_LINES - height, animate=False, immediate=True)

    def action_cursor(self, step: int) -> None:
        self.move_cursor((self.cursor if self.cursor is not None else -1) + step)

    def selected(self) -> Card | None:
        return self.cards[self.cursor] if self.cursor is not None else None

    def card_at(self, y: int) -> int | None:
        index = (y + self.scroll_offset.y) // CARD_LINES
        return index if 0 <= index < len(self.cards) else None

    def on_mouse_down(self, event: events.MouseDown) -> None:
        index = self.card_at(event.y)
        if index is not None:
            self.post_message(self.Pressed(self, self.cards[index]))

    def on_click(self, event: events.Click) -> None:
        index = self.card_at(event.y)
        if index is not None:
            event.stop()  # a card: the column's own click (a move target) is for the rest
            self.move_cursor(index)
            self.post_message(self.Clicked(self, self.cards[index]))

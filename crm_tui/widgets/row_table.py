"""A one-line-per-row table drawn through Textual's Line API, for long paged lists with
fixed column widths (the ticket queue): each cell is cut to its width once when its row
arrives, and a frame builds only the visible lines from those pieces. (A DataTable
renders every visible cell through Rich padding on first paint; at a screenful of
ticket rows that was most of the queue's first paint.)

The header stays on the first line; ↑/↓/PgUp/PgDn/Home/End move the cursor, a click puts
it on the row under the mouse, and `CursorMoved` says so."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

Cell = str | Text
Piece = tuple[str, Style | None]


_CONSOLE = Console(width=200, color_system="truecolor", legacy_windows=False)
"""Only for turning a cell's Text into styled segments (its style names parsed once)."""


def fit(cell: Cell, width: int) -> list[Piece]:
    """The cell as styled pieces exactly `width` cells wide (cut with …, padded)."""
    text = cell if isinstance(cell, Text) else Text(cell)
    if cell_len(text.plain) > width:
        text = text.copy()
        text.truncate(width, overflow="ellipsis")
    pieces: list[Piece] = [(seg.text, seg.style) for seg in text.render(_CONSOLE, end="")
                           if seg.text]
    pad = width - sum(cell_len(p) for p, _ in pieces)
    if pad > 0:
        pieces.append((" " * pad, None))
    return pieces


class RowTable(ScrollView, can_focus=True, inherit_bindings=False):
    COMPONENT_CLASSES = {"row-table--header", "row-table--cursor", "row-table--even"}
    DEFAULT_CSS = """
    RowTable { background: $surface; }
    RowTable > .row-table--header { text-style: bold; background: $panel; color: $foreground; }
    RowTable > .row-table--even { background: $surface-lighten-1 20%; }
    RowTable > .row-table--cursor { background: $block-cursor-blurred-background; }
    RowTable:focus > .row-table--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground;
    }
    """
    BINDINGS = [
        Binding("up", "cursor(-1)", show=False),
        Binding("down", "cursor(1)", show=False),
        Binding("pageup", "page(-1)", show=False),
        Binding("pagedown", "page(1)", show=False),
        Binding("home", "cursor(-100000000)", show=False),
        Binding("end", "cursor(100000000)", show=False),
    ]

    class CursorMoved(Message):
        def __init__(self, table: RowTable, row: int) -> None:
            super().__init__()
            self.table = table
            self.row = row

    class Chosen(Message):
        """A double click on a row: the same as pressing the screen's Enter on it."""

        def __init__(self, table: RowTable, row: int) -> None:
            super().__init__()
            self.table = table
            self.row = row

    def __init__(self, columns: Sequence[tuple[str, str, int]], *, id: str | None = None) -> None:  # noqa: A002
        """`columns`: (key, title, width) each; cells are separated by one space."""
        super().__init__(id=id)
        self.keys = [key for key, _, _ in columns]
        self.widths = [width for _, _, width in columns]
        self.header = [fit(title, width) for _, title, width in columns]
        self.rows: list[list[list[Piece]]] = []
        self.cursor_row = 0
        self._height = 2
        self._styles: tuple[Style, ...] = (Style(),) * 4

    @property
    def row_count(self) -> int:
        return len(self.rows)

    def clear(self) -> None:
        self.rows = []
        self.cursor_row = 0
        self.scroll_to(y=0, animate=False, immediate=True)
        self._resized()

    def add_rows(self, rows: Sequence[Sequence[Cell]]) -> None:
        self.rows.extend([fit(c, w) for c, w in zip(row, self.widths, strict=True)] for row in rows)
        self._resized()

    def update_cell(self, row: int, key: str, cell: Cell) -> None:
        column = self.keys.index(key)
        self.rows[row][column] = fit(cell, self.widths[column])
        self.refresh()

    def _resized(self) -> None:
        self.virtual_size = Size(sum(self.widths) + len(self.widths), len(self.rows) + 1)
        self.refresh()

    # -- drawing ------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        # the styles once per render, not per line (each walks the ancestors)
        base = self.rich_style
        self._styles = (base, base + self.get_component_rich_style("row-table--header"),
                        base + self.get_component_rich_style("row-table--cursor"),
                        base + self.get_component_rich_style("row-table--even"))
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base, header, cursor, even = self._styles
        if y == 0:
            return self._line(self.header, header, width)
        index = y - 1 + self.scroll_offset.y
        if index >= len(self.rows):
            return Strip.blank(width, base)
        style = base
        if index == self.cursor_row:
            style = cursor
        elif index % 2:
            style = even
        return self._line(self.rows[index], style, width)

    def _line(self, cells: list[list[Piece]], style: Style, width: int) -> Strip:
        segments = [Segment(" ", style)]
        for pieces in cells:
            segments.extend(Segment(text, style + s if s else style) for text, s in pieces)
            segments.append(Segment(" ", style))
        strip = Strip(segments).crop(self.scroll_offset.x, self.scroll_offset.x + width)
        return strip.adjust_cell_length(width, style)

    # -- cursor -------------------------------------------------------------------------

    def _visible_rows(self) -> int:
        if self.size.height:  # (zero for a moment while a layout is pending)
            self._height = self.size.height
        return max(1, self._height - 1)

    def move_cursor(self, *, row: int) -> None:
        if not self.rows:
            return
        row = max(0, min(len(self.rows) - 1, row))
        moved = row != self.cursor_row
        self.cursor_row = row
        visible = self._visible_rows()
        if row < self.scroll_offset.y:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= self.scroll_offset.y + visible:
            self.scroll_to(y=row - visible + 1, animate=False, immediate=True)
        self.refresh()
        if moved:
            self.post_message(self.CursorMoved(self, row))

    def action_cursor(self, step: int) -> None:
        self.move_cursor(row=self.cursor_row + step)

    def action_page(self, pages: int) -> None:
        self.move_cursor(row=self.cursor_row + pages * self._visible_rows())

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            index = event.y - 1 + self.scroll_offset.y
            if index < len(self.rows):
                self.move_cursor(row=index)
                if event.chain >= 2:
                    self.post_message(self.Chosen(self, index))

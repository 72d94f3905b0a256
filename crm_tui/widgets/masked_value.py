"""A sensitive value shown masked; Enter or `v` asks to reveal it (the screen decides how).

The widget only ever holds the plaintext the domain handed back for an audited reveal,
and forgets it on `remask()` (the profile calls that when the user leaves the screen).
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from crm_tui.i18n import t


class MaskedValue(Static, can_focus=True):
    DEFAULT_CSS = """
    MaskedValue { width: 1fr; height: 1; }
    MaskedValue:focus { background: $boost; text-style: bold; }
    MaskedValue.-revealed { color: $warning; }
    """
    BINDINGS = [Binding("enter", "reveal", "tui.key.reveal", id="reveal-value")]

    revealed: reactive[str | None] = reactive(None)

    class RevealRequested(Message):
        def __init__(self, field: str) -> None:
            super().__init__()
            self.field = field

    def __init__(self, field: str, label: str = "", *, label_cells: int = 0,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.field = field
        self.label = label
        self.label_cells = label_cells
        self.masked = ""
        self.revealable = True  # False when the actor's role may not reveal (no hint, no key)
        self.pending = False  # a change of this field waits for approval: say so beside it

    def render(self) -> Text:
        label = Text(self.label, style="dim")
        if self.label_cells:
            label.pad_right(max(self.label_cells - label.cell_len, 1))
        if self.revealed is not None:
            return Text.assemble(label, self.revealed, ("  " + t("tui.reveal.shown"), "italic"))
        if not self.masked:
            return Text.assemble(label, ("—", "dim"))
        hint = f"  {t('tui.reveal.hint')}" if self.has_focus and self.revealable else ""
        marker = ("  " + t("tui.ux.pending_marker"), "bold yellow") if self.pending else ""
        return Text.assemble(label, self.masked, marker, (hint, "dim"))

    def set_pending(self, pending: bool) -> None:
        self.pending = pending
        self.refresh()

    def set_masked(self, masked: str) -> None:
        if masked != self.masked:
            self.masked = masked
            self.remask()
        self.refresh()

    def reveal(self, value: str) -> None:
        self.revealed = value
        self.set_class(True, "-revealed")

    def remask(self) -> None:
        self.revealed = None
        self.set_class(False, "-revealed")

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.revealable if action == "reveal" else True

    def action_reveal(self) -> None:
        if self.masked and self.revealable:
            self.post_message(self.RevealRequested(self.field))

"""A yes/no question before something that cannot be taken back: discarding a filled
form, approving a large trade or a suitability override.

Dismisses with True (go ahead) or False. Focus starts on the safe answer, so a reflexive
Enter does no harm; `y` / `n` answer from the keyboard, Esc is "no".
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmModal(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmModal { align: center middle; }
    ConfirmModal > Vertical {
        width: 64; max-width: 100%; height: auto; max-height: 100%;
        border: round $warning; background: $surface; padding: 0 1;
    }
    ConfirmModal .confirm-title { text-style: bold; }
    ConfirmModal Horizontal { height: auto; align-horizontal: right; }
    ConfirmModal Button { margin-left: 1; min-width: 10; }
    """
    BINDINGS = [
        Binding("escape,n", "answer(False)", "tui.ux.cancel", id="confirm-no"),
        Binding("y", "answer(True)", "tui.ux.confirm", id="confirm-yes"),
    ]

    def __init__(self, title: str, body: str, yes: str, no: str) -> None:
        super().__init__(classes="confirm-modal")
        self._title, self._body, self._yes, self._no = title, body, yes, no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._title, classes="confirm-title", markup=False)
            yield Static(self._body, id="confirm-body", markup=False)
            with Horizontal():
                yield Button(f"{self._yes}  Y", id="confirm-yes", variant="warning")
                yield Button(f"{self._no}  N", id="confirm-no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")


def confirm_approval(app: App[object], request_id: int, summary: str,
                     go: Callable[[], object]) -> None:
    """Approve only after "yes" to a line naming the request, its amount and product."""
    from crm_tui.i18n import t

    def answered(yes: bool | None) -> None:
        if yes:
            go()

    app.push_screen(ConfirmModal(t("tui.ux.confirm_title"),
                                 t("tui.ux.confirm_body", id=request_id, summary=summary),
                                 t("tui.ux.confirm"), t("tui.ux.cancel")), answered)

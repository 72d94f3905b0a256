"""One form row: a label, the control, and the line where that field's error appears.

Forms show the domain's `ValidationFailed.by_field()` next to the field it names, so
the user sees every problem where it is, not in a pop-up to remember.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.dom import DOMNode
from textual.widget import Widget
from textual.widgets import Label, Static


class FormField(Horizontal):
    DEFAULT_CSS = """
    FormField { height: auto; margin-bottom: 1; }
    FormField > Label { width: 14; padding-right: 1; color: $text-muted; }
    FormField > Vertical { height: auto; width: 1fr; }
    FormField .field-error { color: $error; display: none; }
    FormField.-invalid .field-error { display: block; }
    FormField.-invalid > Label { color: $error; }
    """

    def __init__(self, field: str, label: str, control: Widget) -> None:
        super().__init__(id=f"row-{field}")
        self.field = field
        self._label = label
        self.control = control

    def compose(self) -> ComposeResult:
        yield Label(self._label)
        with Vertical():
            yield self.control
            yield Static("", classes="field-error", markup=False)

    def set_error(self, text: str | None) -> None:
        self.query_one(".field-error", Static).update(text or "")
        self.set_class(bool(text), "-invalid")


def show_field_errors(root: DOMNode, errors: Mapping[str, str]) -> list[str]:
    """Put each message on its field, clear the others; returns the fields nobody shows."""
    shown = set()
    first: FormField | None = None
    for row in root.query(FormField):
        message = errors.get(row.field)
        row.set_error(message)
        if message:
            shown.add(row.field)
            first = first or row
    if first is not None:
        first.control.focus()
    return [f for f in errors if f not in shown]

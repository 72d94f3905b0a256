"""The yardstick for cold start: the smallest Textual app, started the same way as `crm`."""

from textual.app import App, ComposeResult
from textual.widgets import Static

READY = "Minimal Textual app ready"


class Minimal(App[None]):
    def compose(self) -> ComposeResult:
        yield Static(READY)


if __name__ == "__main__":
    Minimal().run()

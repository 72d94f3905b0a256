"""The frame every form dialog shares: title, fields, a form-level error line, and
Save/Cancel on Ctrl+S and Escape so the whole form works from the keyboard."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Static, TextArea

from crm_tui.i18n import t
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.form_field import show_field_errors
from crm_tui.widgets.session import UsesCrm

R = TypeVar("R")
T = TypeVar("T")


@dataclass(frozen=True)
class _Answer:
    value: Any = None
    fields: dict[str, str] | None = None
    refusal: Exception | None = None


class FormModal(UsesCrm, DomainCalls, ModalScreen[R]):
    CSS_PATH = "form_modal.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "tui.key.cancel", id="form-cancel"),
        Binding("ctrl+s", "submit", "tui.key.save", id="form-save"),
    ]
    SUBMIT_LABEL = "tui.form.save"

    def __init__(self, title: str) -> None:
        super().__init__(classes="form-modal")
        self._title = title
        self.busy = False

    def fields(self) -> Iterable[Widget]:
        raise NotImplementedError

    def extra_buttons(self) -> Iterable[Button]:
        return ()

    def compose(self) -> ComposeResult:
        with Vertical(classes="form-box"):
            yield Static(self._title, classes="form-title", markup=False)
            with VerticalScroll(classes="form-body"):
                yield from self.fields()
            yield Static("", id="form-error", classes="form-error", markup=False)
            with Horizontal(classes="form-buttons"):
                yield from self.extra_buttons()
                yield Button(f"{t(self.SUBMIT_LABEL)}  Ctrl+S", id="form-submit", variant="primary")
                yield Button(f"{t('tui.form.cancel')}  Esc", id="form-cancel")

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        """Enter moves on to the next field, as on a paper form; Ctrl+S saves."""
        event.stop()
        self.focus_next()

    @on(Button.Pressed, "#form-submit")
    def _pressed_submit(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#form-cancel")
    def _pressed_cancel(self) -> None:
        self.action_cancel()

    @on(events.Resize)
    def _fit(self, event: events.Resize) -> None:
        """At 80×24 the body scrolls and the buttons stay on screen: the body gets what
        the title, the error line and the buttons leave."""
        short = event.size.height < 30
        self.set_class(short, "-short")
        chrome = 9 if short else 13
        self.query_one(".form-body").styles.max_height = max(4, min(28, event.size.height - chrome))

    @on(events.Mount)
    def _remember_start(self) -> None:
        self.call_after_refresh(lambda: setattr(self, "_start", self._values()))

    def _values(self) -> list[str]:
        return [w.value for w in self.query(Input)] + [w.text for w in self.query(TextArea)]

    def is_dirty(self) -> bool:
        """Has anything been typed since the form opened (prefilled values don't count)?"""
        start = getattr(self, "_start", None)
        return start is not None and self._values() != start

    def action_cancel(self) -> None:
        """Esc on an untouched form closes it; on a filled one, asks first."""
        if not self.is_dirty():
            self.dismiss(None)
            return
        from crm_tui.screens.confirm_modal import ConfirmModal

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(ConfirmModal(t("tui.ux.discard_title"), t("tui.ux.discard_body"),
                                          t("tui.ux.discard"), t("tui.ux.keep_editing")),
                             answered)

    def action_submit(self) -> None:
        if self.busy:
            return
        self.busy = True
        self.form_error("")
        self.submit()

    def submit(self) -> None:
        raise NotImplementedError

    def call_form(self, fn: Callable[..., T], *args: Any, on_done: Callable[[T], None],
                  field_map: Callable[[str], str] | None = None,
                  on_refused: Callable[[Exception], None] | None = None,
                  refusals: tuple[type[Exception], ...] = (), **kwargs: Any) -> None:
        """Submit through `call_domain` (a worker, no double submit): a ValidationFailed
        lands under its fields (keys renamed by `field_map`), a refusal of a type in
        `refusals` goes to `on_refused`, anything else to the form's error line."""
        from crm_tui.domain.kernel.errors import ValidationFailed

        def attempt() -> _Answer:
            try:
                return _Answer(value=fn(*args, **kwargs))
            except ValidationFailed as exc:
                fields = exc.by_field()
                if field_map is not None:
                    fields = {field_map(k): v for k, v in fields.items()}
                return _Answer(fields=fields)
            except refusals as exc:  # type: ignore[misc]
                return _Answer(refusal=exc)

        def answered(answer: _Answer) -> None:
            if answer.fields is not None:
                self.failed(answer.fields)
            elif answer.refusal is not None and on_refused is not None:
                on_refused(answer.refusal)
            else:
                on_done(cast(T, answer.value))

        self.call_domain(attempt, group="form", block=True, on_done=answered,
                         on_error=lambda text: self.failed(None, text))

    def form_error(self, text: str) -> None:
        self.query_one("#form-error", Static).update(text)

    def failed(self, field_errors: dict[str, str] | None = None, text: str = "") -> None:
        """Show a refusal: per-field messages where the fields are, the rest on top."""
        self.busy = False
        leftover = show_field_errors(self, field_errors or {})
        lines = [text] if text else []
        lines += [f"{t(f'field.{f}')}: {field_errors[f]}" for f in leftover if field_errors]
        self.form_error("\n".join(lines))

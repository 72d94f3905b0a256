"""Log an interaction: channel, subject, summary, next action and when it is due.

The domain validates (`ValidationFailed.by_field()`), and each message lands under its
field. The dialog dismisses with the new interaction's id.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import work
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Select, TextArea

from crm_tui.domain.customers.interactions import CHANNELS
from crm_tui.i18n import t
from crm_tui.screens.form_modal import FormModal
from crm_tui.widgets.form_field import FormField
from crm_tui.widgets.session import failure_text


class InteractionForm(FormModal[int]):
    class Outcome(Message):
        def __init__(self, new_id: int | None, errors: dict[str, str] | None = None,
                     text: str = "") -> None:
            super().__init__()
            self.new_id, self.errors, self.text = new_id, errors, text

    def __init__(self, customer_id: int, customer_name: str) -> None:
        super().__init__(t("tui.interaction_form.title", name=customer_name))
        self.customer_id = customer_id

    def fields(self) -> Iterable[Widget]:
        yield FormField("channel", t("field.channel"), Select(
            [(t(f"channel.{c}"), c) for c in CHANNELS], value="branch", allow_blank=False,
            id="channel", compact=True))
        yield FormField("subject", t("field.subject"), Input(id="subject", compact=True))
        yield FormField("summary", t("field.summary"), TextArea(id="summary", compact=True))
        yield FormField("next_action", t("field.next_action"), Input(
            id="next-action", compact=True, placeholder=t("tui.interaction_form.next_hint")))
        yield FormField("next_action_due", t("field.next_action_due"), Input(
            id="next-action-due", compact=True, placeholder="YYYY-MM-DD"))

    def on_mount(self) -> None:
        self.query_one("#subject", Input).focus()

    def submit(self) -> None:
        channel = self.query_one("#channel", Select).value
        self._save(
            channel if isinstance(channel, str) else "",
            self.query_one("#subject", Input).value,
            self.query_one("#summary", TextArea).text,
            self.query_one("#next-action", Input).value,
            self.query_one("#next-action-due", Input).value,
        )

    @work(thread=True, exclusive=True, group="form")
    def _save(self, channel: str, subject: str, summary: str, next_action: str, due: str) -> None:
        from crm_tui.domain.customers.interactions import NewInteraction, log_interaction
        from crm_tui.domain.kernel.errors import ValidationFailed
        from crm_tui.domain.kernel.validation import BadValue, parse_date

        try:
            due_date = parse_date(due)
        except BadValue as exc:
            self.post_message(self.Outcome(None, {"next_action_due": t(exc.key, **exc.params)}))
            return
        new = NewInteraction(channel=channel, subject=subject, summary=summary,
                             next_action=next_action, next_action_due=due_date)
        try:
            new_id = log_interaction(self.crm, self.actor, self.customer_id, new)
        except ValidationFailed as exc:
            self.post_message(self.Outcome(None, exc.by_field()))
        except Exception as exc:
            self.post_message(self.Outcome(None, text=failure_text(self, exc)))
        else:
            self.post_message(self.Outcome(new_id))

    def on_interaction_form_outcome(self, message: Outcome) -> None:
        if message.new_id is not None:
            self.dismiss(message.new_id)
        else:
            self.failed(message.errors, message.text)

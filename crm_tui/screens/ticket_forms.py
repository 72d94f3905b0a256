"""Dialogs for working a ticket: one text (assignee, answer, resolution note) and the new
ticket form opened from the customer profile."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual import work
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Select, TextArea

from crm_tui.i18n import t
from crm_tui.screens.form_modal import FormModal
from crm_tui.screens.reason_modal import ReasonModal
from crm_tui.widgets.custom_fields_section import CustomFieldsSection
from crm_tui.widgets.form_field import FormField
from crm_tui.widgets.session import failure_text

KINDS = {"assign": "assignee", "respond": "note", "resolve": "note"}


class TicketTextModal(ReasonModal):
    """Assign (a username), respond or resolve (a note) for one ticket."""

    def __init__(self, kind: str, ticket_id: int, version: int) -> None:
        self.FIELD = KINDS[kind]
        self.INPUT_ID = f"ticket-{kind}-input"
        self.SUBMIT_LABEL = f"tui.service.submit.{kind}"
        super().__init__(t(f"tui.service.title.{kind}", id=ticket_id))
        self.kind, self.ticket_id, self.version = kind, ticket_id, version

    def perform(self, text: str) -> None:
        from crm_tui.domain.service import tickets

        if self.kind == "assign":
            tickets.assign_ticket(self.crm, self.actor, self.ticket_id, text.strip() or None,
                                  version=self.version)
        elif self.kind == "respond":
            tickets.respond(self.crm, self.actor, self.ticket_id, text, version=self.version)
        else:
            tickets.resolve_ticket(self.crm, self.actor, self.ticket_id, text, version=self.version)

    def done_text(self) -> str:
        return t(f"tui.service.done.{self.kind}", id=self.ticket_id)


TYPES = ("inquiry", "transaction_help", "info_change", "complaint", "other")
PRIORITIES = ("urgent", "high", "normal", "low")
CHANNELS = ("branch", "phone", "mobile_app", "web", "wechat", "email")


class NewTicketModal(FormModal[str]):
    """A new ticket for the customer on screen."""

    SUBMIT_LABEL = "tui.service.submit.create"

    class Outcome(Message):
        def __init__(self, ticket_id: int | None, errors: dict[str, str] | None = None,
                     text: str = "") -> None:
            super().__init__()
            self.ticket_id, self.errors, self.text = ticket_id, errors, text

    def __init__(self, customer_id: int, customer_name: str) -> None:
        super().__init__(t("tui.service.title.create", customer=customer_name))
        self.customer_id = customer_id

    def fields(self) -> Iterable[Widget]:
        yield FormField("type", t("field.type"), Select(
            [(t(f"service.type.{v}"), v) for v in TYPES], value="inquiry", allow_blank=False,
            id="ticket-type", compact=True))
        yield FormField("priority", t("field.priority"), Select(
            [(t(f"service.priority.{v}"), v) for v in PRIORITIES], value="normal",
            allow_blank=False, id="ticket-priority", compact=True))
        yield FormField("channel", t("field.channel"), Select(
            [(t(f"channel.{v}"), v) for v in CHANNELS], value="branch", allow_blank=False,
            id="ticket-channel", compact=True))
        yield FormField("subject", t("field.subject"), Input(id="ticket-subject", compact=True))
        yield FormField("description", t("field.description"),
                        TextArea(id="ticket-description", compact=True))
        yield CustomFieldsSection("ticket")

    def on_mount(self) -> None:
        self.query_one("#ticket-subject", Input).focus()

    def submit(self) -> None:
        raw = {"type": self.query_one("#ticket-type", Select).value,
               "priority": self.query_one("#ticket-priority", Select).value,
               "channel": self.query_one("#ticket-channel", Select).value,
               "subject": self.query_one("#ticket-subject", Input).value,
               "description": self.query_one("#ticket-description", TextArea).text,
               "custom": self.query_one(CustomFieldsSection).values()}
        self._create(raw)

    @work(thread=True, exclusive=True, group="form")
    def _create(self, raw: dict[str, object]) -> None:
        from crm_tui.domain.kernel.errors import ValidationFailed
        from crm_tui.domain.service.tickets import create_ticket

        try:
            new_id = create_ticket(self.crm, self.actor, self.customer_id, raw)
        except ValidationFailed as exc:
            self.post_message(self.Outcome(None, exc.by_field()))
        except Exception as exc:
            self.post_message(self.Outcome(None, text=failure_text(self, exc)))
        else:
            self.post_message(self.Outcome(new_id))

    def on_new_ticket_modal_outcome(self, message: Outcome) -> None:
        if message.ticket_id is not None:
            self.dismiss(t("tui.service.done.create", id=message.ticket_id))
        else:
            self.failed(message.errors, message.text)


def open_from_profile(profile: Any) -> None:
    """The profile's "new ticket" key: the form, then the outcome on the profile's line."""
    from crm_tui.domain.service.tickets import WORKERS

    if profile.view is None:
        return
    if profile.actor.role not in WORKERS:
        profile.say(t("error.permission_denied", role=profile.actor.role, action="ticket.create"),
                    ok=False)
        return

    def done(text: str | None) -> None:
        if text:
            profile.say(text, ok=True)

    profile.app.push_screen(NewTicketModal(profile.customer_id, profile.view.name), done)

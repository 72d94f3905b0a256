"""The profile's privacy dialogs: record a customer's rights request (`p`) and see or record
consent per purpose (`c`). Both are one domain call each, through `call_domain`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from textual.widget import Widget
from textual.widgets import Input, Select, Static

from crm_tui.i18n import t
from crm_tui.screens.form_modal import FormModal
from crm_tui.widgets.form_field import FormField

NOTICE_VERSION = "2026.1"  # the privacy notice the branch currently hands out


def checked(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, dict[str, str]]:
    """Run a domain call in the worker; a field-level refusal comes back as data, so the
    form can put each message on its field (anything else is `call_domain`'s one line)."""
    from crm_tui.domain.kernel.errors import ValidationFailed

    try:
        return fn(*args, **kwargs), {}
    except ValidationFailed as exc:
        return None, exc.by_field()


def _value(select: Select[str]) -> str:
    value = select.value
    return value if isinstance(value, str) else ""


class PrivacyRequestForm(FormModal[int]):
    """Dismisses with the new request's id."""

    SUBMIT_LABEL = "tui.privacy.request.submit"

    def __init__(self, customer_id: int, customer_name: str) -> None:
        super().__init__(t("tui.privacy.request.title", name=customer_name))
        self.customer_id = customer_id

    def fields(self) -> Iterable[Widget]:
        from crm_tui.domain.customers.consent import CHANNELS, PURPOSES
        from crm_tui.domain.privacy.requests import KINDS

        yield Static(t("tui.privacy.request.notice"), classes="form-notice")
        yield FormField("privacy_kind", t("field.privacy_kind"), Select(
            [(t(f"privacy.kind.{k}"), k) for k in KINDS], value="access", allow_blank=False,
            id="privacy-kind", compact=True))
        yield FormField("purpose", t("field.purpose"), Select(
            [(t(f"privacy.purpose.{p}"), p) for p in PURPOSES], id="privacy-purpose",
            compact=True, prompt=t("tui.privacy.request.purpose_prompt")))
        yield FormField("channel", t("field.channel"), Select(
            [(t(f"channel.{c}"), c) for c in CHANNELS], value="branch", allow_blank=False,
            id="privacy-channel", compact=True))
        yield FormField("privacy_detail", t("field.privacy_detail"),
                        Input(id="privacy-detail", compact=True,
                              placeholder=t("tui.privacy.request.detail_hint")))

    def on_mount(self) -> None:
        self.query_one("#privacy-kind", Select).focus()

    def submit(self) -> None:
        from crm_tui.domain.privacy.requests import open_request

        purpose = _value(self.query_one("#privacy-purpose", Select))
        self.call_domain(checked, open_request, self.crm, self.actor, self.customer_id,
                         _value(self.query_one("#privacy-kind", Select)),
                         detail=self.query_one("#privacy-detail", Input).value,
                         purposes=[purpose] if purpose else [],
                         channel=_value(self.query_one("#privacy-channel", Select)),
                         on_done=self._done, on_error=lambda text: self.failed(None, text),
                         group="form", block=True)

    def _done(self, result: tuple[int | None, dict[str, str]]) -> None:
        request_id, errors = result
        if request_id is None:
            self.failed(errors)
        else:
            self.dismiss(request_id)


class ConsentModal(FormModal[bool]):
    """The consent in force per purpose, and a grant or withdrawal to record."""

    SUBMIT_LABEL = "tui.privacy.consent.submit"

    def __init__(self, customer_id: int, customer_name: str, may_record: bool) -> None:
        super().__init__(t("tui.privacy.consent.title", name=customer_name))
        self.customer_id = customer_id
        self.may_record = may_record

    def fields(self) -> Iterable[Widget]:
        from crm_tui.domain.customers.consent import CHANNELS, PURPOSES

        yield Static(t("tui.privacy.consent.loading"), id="consent-current", markup=False)
        if not self.may_record:
            return
        yield FormField("purpose", t("field.purpose"), Select(
            [(t(f"privacy.purpose.{p}"), p) for p in PURPOSES], value=PURPOSES[0],
            allow_blank=False, id="consent-purpose", compact=True))
        yield FormField("granted", t("tui.privacy.consent.decision"), Select(
            [(t("tui.privacy.consent.grant"), "grant"),
             (t("tui.privacy.consent.withdraw"), "withdraw")], value="grant",
            allow_blank=False, id="consent-granted", compact=True))
        yield FormField("notice_version", t("field.notice_version"),
                        Input(NOTICE_VERSION, id="consent-notice", compact=True))
        yield FormField("channel", t("field.channel"), Select(
            [(t(f"channel.{c}"), c) for c in CHANNELS], value="branch", allow_blank=False,
            id="consent-channel", compact=True))

    def on_mount(self) -> None:
        self._load()
        if self.may_record:
            self.query_one("#consent-purpose", Select).focus()

    def _load(self) -> None:
        from crm_tui.domain.customers.consent import current_consents

        self.call_domain(current_consents, self.crm, self.actor, self.customer_id,
                         on_done=self._show, on_error=lambda text: self.failed(None, text),
                         group="load")

    def _show(self, views: list[Any]) -> None:
        tz = self.crm.tz
        lines = []
        for v in views:
            state = (t("tui.privacy.consent.granted") if v.granted
                     else t("tui.privacy.consent.not_granted"))
            when = v.recorded_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if v.recorded_at else ""
            extra = f"  {v.notice_version} · {t(f'channel.{v.channel}')} · {when}" if when else ""
            lines.append(f"{t(f'privacy.purpose.{v.purpose}')}: {state}{extra}")
        self.query_one("#consent-current", Static).update("\n".join(lines))

    def submit(self) -> None:
        from crm_tui.domain.customers.consent import record_consent

        if not self.may_record:
            self.dismiss(False)
            return
        self.call_domain(checked, record_consent, self.crm, self.actor, self.customer_id,
                         _value(self.query_one("#consent-purpose", Select)),
                         _value(self.query_one("#consent-granted", Select)) == "grant",
                         notice_version=self.query_one("#consent-notice", Input).value,
                         channel=_value(self.query_one("#consent-channel", Select)),
                         on_done=self._recorded, on_error=lambda text: self.failed(None, text),
                         group="form", block=True)

    def _recorded(self, result: tuple[int | None, dict[str, str]]) -> None:
        row_id, errors = result
        if row_id is None:
            self.failed(errors)
        else:
            self.dismiss(True)

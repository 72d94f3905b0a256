"""The compliance privacy area (f11): every customer's rights requests, open first (or all),
newest first, keyset-paged, with the deadline and whether it has passed. Compliance takes a
request (`t`), makes the access-and-copy file (`f`), completes it with the outcome (`c`) or
refuses it in writing (`x`), and opens a restricted record only with a reason (`v`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.binding import Binding

from crm_tui.i18n import t
from crm_tui.screens.reason_modal import ReasonModal
from crm_tui.widgets.data_table import DataTable
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.formatting import moment
from crm_tui.widgets.open_or_all_list import OpenOrAllList

if TYPE_CHECKING:
    from crm_tui.domain.customers.views import CustomerView
    from crm_tui.domain.kernel.actor import Actor
    from crm_tui.domain.kernel.context import Crm
    from crm_tui.domain.privacy.requests import RequestView

COLUMNS = (
    ("id", "tui.privacy.col.id", 5),
    ("customer", "tui.privacy.col.customer", 18),
    ("kind", "tui.privacy.col.kind", 10),
    ("state", "tui.privacy.col.state", 9),
    ("due", "tui.privacy.col.due", 16),
    ("owner", "tui.privacy.col.owner", 6),
    ("detail", "tui.privacy.col.detail", 40),
)


class PrivacyRequestsPane(DomainCalls, OpenOrAllList):
    """The "Privacy requests" area."""

    MESSAGE_LINE = "#privacy-message"
    TABLE_ID, FILTER_ID, COLUMNS = "privacy-list", "privacy-filter", COLUMNS
    TITLE, NONE = "tui.privacy.title", "tui.privacy.none"
    SHOWING_ALL, SHOWING_OPEN = "tui.privacy.showing_all", "tui.privacy.showing_open"
    DEFAULT_CSS = """
    PrivacyRequestsPane #privacy-list { margin-top: 1; background: $background; }
    """
    BINDINGS = [
        Binding("t", "take", "tui.privacy.key.take", id="privacy-take"),
        Binding("f", "copy_file", "tui.privacy.key.copy", id="privacy-copy"),
        Binding("c", "complete", "tui.privacy.key.complete", id="privacy-complete"),
        Binding("x", "refuse", "tui.privacy.key.refuse", id="privacy-refuse"),
        Binding("v", "open_restricted", "tui.privacy.key.restricted", id="privacy-restricted"),
        Binding("o", "toggle_all", "tui.privacy.key.toggle_all", id="privacy-toggle"),
        Binding("r", "reload", "tui.privacy.key.reload", id="privacy-reload"),
    ]

    def fetch(self, crm: Crm, actor: Actor, show_all: bool, before_id: int | None,
              limit: int) -> list[RequestView]:
        from crm_tui.domain.privacy.requests import list_requests

        return list_requests(crm, actor, state=None if show_all else "open",
                             before_id=before_id, limit=limit)

    def cells(self, r: RequestView) -> list[str | Text]:
        state = Text(t(f"privacy.state.{r.state}"))
        if r.overdue:
            state = Text(t("tui.privacy.overdue"), style="bold red")
        who = r.customer_name + (f" {t('tui.privacy.restricted_mark')}" if r.restricted else "")
        return [f"#{r.id}", Text(who), t(f"privacy.kind.{r.kind}"), state,
                moment(r.due_at, self.crm.tz), Text(r.owner),
                Text(r.refusal_reason or r.outcome or r.detail)]

    # -- actions -----------------------------------------------------------------------

    def action_take(self) -> None:
        from crm_tui.domain.privacy.requests import take_request

        req = self.highlighted()
        if req is not None:
            self.call_domain(take_request, self.crm, self.actor, req.id,
                             on_done=lambda _: self.changed(t("tui.privacy.taken", id=req.id)),
                             group="act", block=True)

    def action_copy_file(self) -> None:
        from crm_tui.domain.privacy.copy_file import make_copy

        req = self.highlighted()
        if req is None:
            return
        target = Path.home() / f"个人信息副本-{req.customer_id}-{req.id}.xlsx"
        self.call_domain(make_copy, self.crm, self.actor, req.customer_id, target, "xlsx",
                         request_id=req.id if req.kind == "access" else None,
                         on_done=lambda report: self.changed(
                             t("tui.privacy.copied", path=str(report.path))),
                         group="act", block=True)

    def action_complete(self) -> None:
        req = self.highlighted()
        if req is not None:
            self.app.push_screen(CompleteModal(req), self.changed)

    def action_refuse(self) -> None:
        req = self.highlighted()
        if req is not None:
            self.app.push_screen(RefuseModal(req), self.changed)

    def action_open_restricted(self) -> None:
        req = self.highlighted()
        if req is None:
            return
        if not req.restricted:
            self.app.open_customer(req.customer_id)  # type: ignore[attr-defined]
            return
        self.app.push_screen(RestrictedReasonModal(req.customer_id, req.customer_name),
                             self._opened)

    def _opened(self, view: CustomerView | None) -> None:
        from crm_tui.screens.privacy_restricted import RestrictedProfileScreen

        if view is not None:
            self.app.push_screen(RestrictedProfileScreen(view))

    @on(DataTable.RowSelected, "#privacy-list")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_restricted()


class _RequestOutcome(ReasonModal):
    """Close one request with a written text (the outcome, or the refusal); the call checks
    the version the officer saw."""

    DONE: str  # catalog key of the outcome line

    def __init__(self, req: RequestView, title: str) -> None:
        super().__init__(title)
        self.req = req

    def done_text(self) -> str:
        return t(self.DONE, id=self.req.id)


class CompleteModal(_RequestOutcome):
    SUBMIT_LABEL, DONE = "tui.privacy.complete_confirm", "tui.privacy.completed"
    FIELD, INPUT_ID = "privacy_outcome", "privacy-outcome"

    def __init__(self, req: RequestView) -> None:
        super().__init__(req, t("tui.privacy.complete_title", id=req.id,
                                kind=t(f"privacy.kind.{req.kind}")))
        self.NOTICE = f"tui.privacy.complete_notice.{req.kind}"

    def perform(self, text: str) -> None:
        from crm_tui.domain.privacy.requests import complete_request

        complete_request(self.crm, self.actor, self.req.id, text, version=self.req.version)


class RefuseModal(_RequestOutcome):
    SUBMIT_LABEL, DONE = "tui.privacy.refuse_confirm", "tui.privacy.refused"
    FIELD, INPUT_ID = "privacy_refusal", "privacy-refusal"
    NOTICE = "tui.privacy.refuse_notice"

    def __init__(self, req: RequestView) -> None:
        super().__init__(req, t("tui.privacy.refuse_title", id=req.id))

    def perform(self, text: str) -> None:
        from crm_tui.domain.privacy.requests import refuse_request

        refuse_request(self.crm, self.actor, self.req.id, text, version=self.req.version)


class RestrictedReasonModal(ReasonModal):
    """Compliance says why before a restricted record is shown; dismisses with the view."""

    SUBMIT_LABEL = "tui.privacy.restricted_confirm"
    FIELD = "reason"
    INPUT_ID = "restricted-reason"
    NOTICE = "tui.privacy.restricted_notice"

    def __init__(self, customer_id: int, name: str) -> None:
        super().__init__(t("tui.privacy.restricted_title", name=name or f"#{customer_id}"))
        self.customer_id = customer_id
        self.view: CustomerView | None = None

    def perform(self, text: str) -> None:
        from crm_tui.domain.privacy.restricted import open_restricted

        self.view = open_restricted(self.crm, self.actor, self.customer_id, text,
                                    today=self.today)

    def done_text(self) -> str:
        return ""

    def _run(self, text: str) -> None:
        # dismiss with the view the domain returned, not with a line of text
        self.call_form(self.perform, text, on_done=lambda _: self.dismiss(self.view))  # type: ignore[arg-type]

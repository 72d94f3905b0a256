"""One approval request: what changes (before → after), the evidence, the levels with who
decided what, and — for the person who may decide — approve (`a`) or reject (`x`, with a
required comment). The maker may withdraw (`w`) her own pending request.

The rules (role, scope, maker ≠ checker, stale, expiry) are the domain's; a refusal comes
back in the domain's words and the request is re-read, so a stale or expired request shows
its new state at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from crm_tui.i18n import render, t
from crm_tui.screens.approval_inbox import state_text
from crm_tui.screens.reason_modal import ReasonModal
from crm_tui.widgets.bindings import translate_bindings
from crm_tui.widgets.formatting import moment
from crm_tui.widgets.session import UsesCrm, failure_text
from crm_tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from crm_tui.domain.compliance.approval_views import RequestDetail


class ApprovalDetailScreen(UsesCrm, Screen[str | None]):
    """Dismisses with a line saying what was done, or None."""

    CSS_PATH = "approvals.tcss"
    BINDINGS = [
        Binding("escape", "back", "tui.key.back", id="approval-back"),
        Binding("a", "approve", "tui.compliance.key.approve", id="detail-approve"),
        Binding("x", "reject", "tui.compliance.key.reject", id="detail-reject"),
        Binding("w", "withdraw", "tui.compliance.key.withdraw", id="detail-withdraw"),
    ]

    class Loaded(Message):
        def __init__(self, detail: RequestDetail | None, text: str = "") -> None:
            super().__init__()
            self.detail, self.text = detail, text

    class Done(Message):
        def __init__(self, text: str, ok: bool) -> None:
            super().__init__()
            self.text, self.ok = text, ok

    def __init__(self, request_id: int) -> None:
        super().__init__(classes="approval-detail")
        translate_bindings(self)
        self.request_id = request_id
        self.detail: RequestDetail | None = None

    def compose(self) -> ComposeResult:
        yield StatusBar(self.host.session, t("tui.compliance.detail.context"))  # type: ignore[arg-type]
        with VerticalScroll(id="approval-body"):
            yield Static("", id="approval-head", markup=False)
            yield Static(t("tui.compliance.detail.changes"), classes="panel-title")
            changes: DataTable[str] = DataTable(id="approval-changes", show_cursor=False)
            changes.add_columns(t("tui.compliance.col.field"), t("tui.compliance.col.before"),
                                t("tui.compliance.col.after"))
            yield changes
            yield Static("", id="approval-diff", markup=False)
            yield Static(t("tui.compliance.detail.evidence"), classes="panel-title")
            yield Static("", id="approval-evidence", markup=False)
            yield Static(t("tui.compliance.detail.levels"), classes="panel-title")
            levels: DataTable[str] = DataTable(id="approval-levels", show_cursor=False)
            levels.add_columns(t("tui.compliance.col.level"), t("tui.compliance.col.role"),
                               t("tui.compliance.col.state"), t("tui.compliance.col.decider"),
                               t("tui.compliance.col.when"), t("tui.compliance.col.comment"))
            yield levels
        yield Static("", id="approval-why", markup=False)
        yield Static("", id="approval-detail-message", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    def load(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="approval-detail")
    def _load(self) -> None:
        from crm_tui.domain.compliance.approval_views import get_request

        try:
            detail = get_request(self.crm, self.actor, self.request_id)
        except Exception as exc:
            self.post_message(self.Loaded(None, failure_text(self, exc)))
        else:
            self.post_message(self.Loaded(detail))

    def on_approval_detail_screen_loaded(self, message: Loaded) -> None:
        if message.detail is None:
            self.say(message.text, ok=False)
            return
        d = self.detail = message.detail
        r = d.request
        tz = self.crm.tz
        head = [
            f"#{r.id}  {t(f'compliance.kind.{r.kind}')} — {render(r.summary)}",
            t("tui.compliance.detail.made_by", maker=r.maker_name, at=moment(r.created_at, tz),
              expires=moment(r.expires_at, tz)),
            t("tui.compliance.detail.state", state=state_text(r)),
        ]
        if r.outcome:
            head.append(render(r.outcome))
        self.query_one("#approval-head", Static).update("\n".join(head))
        changes = self.query_one("#approval-changes", DataTable)
        changes.clear()
        for c in d.changes:
            changes.add_row(render(c.field), c.before or "—", c.after or "—")
        changes.display = bool(d.changes)
        diff = self.query_one("#approval-diff", Static)
        diff.update(Text(d.diff) if d.diff else "")
        diff.display = bool(d.diff)
        evidence = "\n".join(f"{render(k)}: {render(v)}" for k, v in d.evidence)
        self.query_one("#approval-evidence", Static).update(
            evidence or t("tui.compliance.detail.no_evidence"))
        levels = self.query_one("#approval-levels", DataTable)
        levels.clear()
        for lv in d.levels:
            levels.add_row(str(lv.seq), f"{t(f'role.{lv.role}')} ({t(f'compliance.scope.{lv.scope}')})",
                           t(f"compliance.level_status.{lv.status}"), lv.decider_name or "—",
                           moment(lv.decided_at, tz), lv.comment or "")
        self.query_one("#approval-why", Static).update(
            "" if d.can_decide else render(d.why_not))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("approve", "reject"):
            return self.detail is not None and self.detail.can_decide
        if action == "withdraw":
            return self.detail is not None and self.detail.can_withdraw
        return True

    # -- deciding --------------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss(None)

    def action_approve(self) -> None:
        self._approve()

    @work(thread=True, exclusive=True, group="approval-decide")
    def _approve(self) -> None:
        from crm_tui.domain.compliance import approvals

        try:
            status = approvals.approve(self.crm, self.actor, self.request_id)
        except Exception as exc:
            self.post_message(self.Done(failure_text(self, exc), ok=False))
        else:
            key = "tui.compliance.approved_final" if status == "approved" \
                else "tui.compliance.approved_level"
            self.post_message(self.Done(t(key, id=self.request_id), ok=True))

    def action_reject(self) -> None:
        self.app.push_screen(RejectModal(self.request_id), self._rejected)

    def _rejected(self, text: str | None) -> None:
        if text:
            self.dismiss(text)

    def action_withdraw(self) -> None:
        self._withdraw()

    @work(thread=True, exclusive=True, group="approval-decide")
    def _withdraw(self) -> None:
        from crm_tui.domain.compliance import approvals

        try:
            approvals.withdraw(self.crm, self.actor, self.request_id)
        except Exception as exc:
            self.post_message(self.Done(failure_text(self, exc), ok=False))
        else:
            self.post_message(self.Done(t("tui.compliance.withdrawn", id=self.request_id),
                                        ok=True))

    def on_approval_detail_screen_done(self, message: Done) -> None:
        if message.ok:
            self.dismiss(message.text)
            return
        self.say(message.text, ok=False)
        self.load()  # a stale or expired request now shows its closed state

    def say(self, text: str, *, ok: bool) -> None:
        line = self.query_one("#approval-detail-message", Static)
        line.update(text)
        line.set_class(not ok, "-error")


class RejectModal(ReasonModal):
    """Reject with the comment the domain requires; dismisses with the outcome line."""

    SUBMIT_LABEL = "tui.compliance.reject_confirm"
    FIELD = "approval_comment"
    INPUT_ID = "reject-comment"
    PLACEHOLDER = "tui.compliance.reject_hint"

    def __init__(self, request_id: int) -> None:
        super().__init__(t("tui.compliance.reject_title", id=request_id))
        self.request_id = request_id

    def perform(self, text: str) -> None:
        from crm_tui.domain.compliance import approvals

        approvals.reject(self.crm, self.actor, self.request_id, text)

    def done_text(self) -> str:
        return t("tui.compliance.rejected", id=self.request_id)

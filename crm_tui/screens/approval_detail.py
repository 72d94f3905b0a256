"""One approval request: what changes (before → after), the evidence, the levels with who
decided what, and — for the person who may decide — approve (`a`) or reject (`x`, with a
required comment). The maker may withdraw (`w`) her own pending request.

The rules (role, scope, maker ≠ checker, stale, expiry) are the domain's; a refusal comes
back in the domain's words and the request is re-read, so a stale or expired request shows
its new state at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from crm_tui.i18n import render, t
from crm_tui.screens.reject_modal import RejectModal
from crm_tui.widgets.approval_text import NEEDS_CONFIRMATION, state_text, trade_rows
from crm_tui.widgets.bindings import TranslatedFooter
from crm_tui.widgets.data_table import DataTable
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.footer import Footer
from crm_tui.widgets.formatting import moment
from crm_tui.widgets.review_text import review_lines
from crm_tui.widgets.session import UsesCrm
from crm_tui.widgets.status_bar import StatusBar
from crm_tui.widgets.status_line import SaysOnLine

if TYPE_CHECKING:
    from crm_tui.domain.compliance.approval_views import RequestDetail


class ApprovalDetailScreen(TranslatedFooter, UsesCrm, DomainCalls, SaysOnLine, Screen[str | None]):
    """Dismisses with a line saying what was done, or None."""

    MESSAGE_LINE = "#approval-detail-message"

    CSS_PATH = "approvals.tcss"
    BINDINGS = [
        Binding("escape", "back", "tui.key.back", id="approval-back"),
        Binding("a", "approve", "tui.compliance.key.approve", id="detail-approve"),
        Binding("x", "reject", "tui.compliance.key.reject", id="detail-reject"),
        Binding("w", "withdraw", "tui.compliance.key.withdraw", id="detail-withdraw"),
    ]

    def __init__(self, request_id: int) -> None:
        super().__init__(classes="approval-detail")
        self.request_id = request_id
        self.detail: RequestDetail | None = None

    def compose(self) -> ComposeResult:
        yield StatusBar(self.host.session, t("tui.compliance.detail.context"))  # type: ignore[arg-type]
        with VerticalScroll(id="approval-body"):
            yield Static("", id="approval-head", markup=False)
            yield Static(t("firstweek.trade.title"), classes="panel-title",
                         id="approval-trade-title")
            yield Static("", id="approval-trade", markup=False)
            yield Static(t("tui.compliance.detail.changes"), classes="panel-title",
                         id="approval-changes-title")
            changes: DataTable[str] = DataTable(id="approval-changes", show_cursor=False)
            changes.add_columns(t("tui.compliance.col.field"), t("tui.compliance.col.before"),
                                t("tui.compliance.col.after"))
            yield changes
            yield Static("", id="approval-review", markup=False)
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

    def _load(self) -> None:
        from crm_tui.domain.compliance.approval_views import get_request

        self.call_domain(get_request, self.crm, self.actor, self.request_id, group="detail",
                         on_done=self._loaded)

    def _loaded(self, detail: RequestDetail) -> None:
        d = self.detail = detail
        r = d.request
        tz = self.crm.tz
        head = [
            f"#{r.id}  {t(f'compliance.kind.{r.kind}')} — {render(r.summary)}",
            t("tui.compliance.detail.made_by", maker=r.maker_name, at=moment(r.created_at, tz),
              expires=moment(r.expires_at, tz)),
            t("tui.compliance.detail.state", state=state_text(r)),
        ]
        if r.outcome and render(r.outcome) != state_text(r):  # "已驳回" once, not twice
            head.append(render(r.outcome))
        self.query_one("#approval-head", Static).update("\n".join(head))
        self._show_trade(d)
        changes = self.query_one("#approval-changes", DataTable)
        changes.clear()
        for c in d.changes:
            changes.add_row(render(c.field), c.before or "—", c.after or "—")
        changes.display = bool(d.changes)
        self.query_one("#approval-changes-title").display = bool(d.changes)
        review = self.query_one("#approval-review", Static)
        review.update("\n".join(review_lines(d.review)))
        review.display = d.review is not None
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

    def _show_trade(self, d: RequestDetail) -> None:
        """A transaction request shows its trade where a change request shows its fields."""
        body = self.query_one("#approval-trade", Static)
        if d.trade is not None:
            grid = Table.grid(padding=(0, 2))
            grid.add_column(style="dim", no_wrap=True)
            grid.add_column(overflow="fold")
            for name, value in trade_rows(d.trade):
                grid.add_row(name, value)
            body.update(grid)
        body.display = d.trade is not None
        self.query_one("#approval-trade-title").display = d.trade is not None

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
        from crm_tui.screens.confirm_modal import confirm_approval

        d = self.detail
        if d is not None and d.request.kind in NEEDS_CONFIRMATION:
            confirm_approval(self.app, d.request.id, d.request.summary, self._approve)
        else:
            self._approve()

    def _approve(self) -> None:
        from crm_tui.domain.compliance import approvals

        def done(status: str) -> None:
            key = "tui.compliance.approved_final" if status == "approved" \
                else "tui.compliance.approved_level"
            self.dismiss(t(key, id=self.request_id))

        self.call_domain(approvals.approve, self.crm, self.actor, self.request_id,
                         group="decide", block=True, on_done=done, on_error=self._refused)

    def _refused(self, text: str) -> None:
        self.say(text, ok=False)
        self.load()  # a stale or expired request now shows its closed state

    def action_reject(self) -> None:
        self.app.push_screen(RejectModal(self.request_id), self._rejected)

    def _rejected(self, text: str | None) -> None:
        if text:
            self.dismiss(text)

    def action_withdraw(self) -> None:
        self._withdraw()

    def _withdraw(self) -> None:
        from crm_tui.domain.compliance import approvals

        self.call_domain(approvals.withdraw, self.crm, self.actor, self.request_id,
                         group="decide", block=True, on_error=self._refused,
                         on_done=lambda _: self.dismiss(t("tui.compliance.withdrawn",
                                                          id=self.request_id)))

"""The approval inbox: what the signed-in person may decide (oldest first), her own
requests (how a maker learns of approvals, rejections, expiry and stale refusals) and the
history of decided requests.

Lists are read by `domain.approval_views` in workers and paged by keyset. Enter opens a
request (diff, evidence, levels); `a` approves and `x` rejects the highlighted request
straight from the list, the reject asking for its required comment.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static, TabbedContent, TabPane

from crm_tui.i18n import render, t
from crm_tui.widgets.approval_text import NEEDS_CONFIRMATION, age_text, state_text
from crm_tui.widgets.data_table import DataTable
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.session import UsesCrm
from crm_tui.widgets.status_line import SaysOnLine

if TYPE_CHECKING:
    from crm_tui.domain.compliance.approval_views import RequestSummary

PAGE = 50
LISTS = ("decide", "mine", "history")
# The summary (what, how much, for whom) right after the id, so 80 columns keep it.
COLUMNS = (  # key, catalog key, width
    ("id", "tui.compliance.col.id", 5),
    ("summary", "tui.compliance.col.summary", 36),
    ("state", "tui.compliance.col.state", 16),
    ("age", "tui.compliance.col.age", 9),
    ("kind", "tui.compliance.col.kind", 16),
    ("maker", "tui.compliance.col.maker", 6),
)


class ApprovalInboxPane(UsesCrm, DomainCalls, SaysOnLine, Vertical):
    """The "Approvals" area."""

    MESSAGE_LINE = "#approval-message"

    DEFAULT_CSS = """
    ApprovalInboxPane #approval-tabs { height: 1fr; margin-top: 1; }
    ApprovalInboxPane DataTable { height: 1fr; background: $background; }
    ApprovalInboxPane #approval-message.-error { color: $error; }
    """
    BINDINGS = [
        Binding("a", "approve", "tui.compliance.key.approve", id="approval-approve"),
        Binding("x", "reject", "tui.compliance.key.reject", id="approval-reject"),
        Binding("r", "reload", "tui.compliance.key.reload", id="approval-reload"),
        Binding("1", "tab('decide')", "tui.ux.tab_decide", id="approval-tab-decide"),
        Binding("2", "tab('mine')", "tui.ux.tab_mine", id="approval-tab-mine"),
        Binding("3", "tab('history')", "tui.ux.tab_history", id="approval-tab-history"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="area-pane")
        self.rows: dict[str, list[RequestSummary]] = {w: [] for w in LISTS}
        self._more: dict[str, bool] = {w: False for w in LISTS}
        self._loading: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Static(t("tui.compliance.inbox.title"), classes="pane-title")
        with TabbedContent(id="approval-tabs", initial="approvals-decide"):
            for which in LISTS:
                with TabPane(t(f"tui.compliance.inbox.tab.{which}"), id=f"approvals-{which}"):
                    table: DataTable[str | Text] = DataTable(
                        id=f"approval-list-{which}", cursor_type="row", zebra_stripes=True)
                    for key, label, width in COLUMNS:
                        table.add_column(t(label), width=width, key=key)
                    yield table
        yield Static("", id="approval-message", classes="pane-status", markup=False)

    def on_mount(self) -> None:
        for which in LISTS:
            table = self.query_one(f"#approval-list-{which}", DataTable)
            self.watch(table, "scroll_y", lambda y, w=which: self._scrolled(w, y), init=False)
        self.reload()

    def focus_default(self) -> None:
        self.query_one(f"#approval-list-{self.current}", DataTable).focus()

    @property
    def current(self) -> str:
        active = self.query_one(TabbedContent).active or "approvals-decide"
        return active.removeprefix("approvals-")

    # -- reading -------------------------------------------------------------------------

    def action_tab(self, which: str) -> None:
        """1 / 2 / 3: the three lists without Shift+Tab (shown in the footer)."""
        self.query_one(TabbedContent).active = f"approvals-{which}"
        self.query_one(f"#approval-list-{which}", DataTable).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Footers offer only what the role can do: `a` / `x` to deciders, in their list."""
        if action in ("approve", "reject"):
            from crm_tui.domain.kernel.permissions import Perm, can

            return can(self.actor, Perm.APPROVAL_DECIDE) and self.current == "decide"
        return True

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        for which in LISTS:
            self._loading.add(which)
            self._fetch(which, None)

    def _fetch(self, which: str, after: RequestSummary | None) -> None:
        from crm_tui.domain.compliance import approval_views
        from crm_tui.domain.compliance.decision_news import unseen_decisions
        from crm_tui.domain.kernel.permissions import Perm, can

        def read() -> list[RequestSummary]:
            if which == "decide":
                if not can(self.actor, Perm.APPROVAL_DECIDE):
                    return []
                return approval_views.inbox(self.crm, self.actor, limit=PAGE,
                                            after=(after.created_at, after.id) if after else None)
            if which == "mine":
                return approval_views.my_requests(self.crm, self.actor, limit=PAGE,
                                                  before_id=after.id if after else None)
            return approval_views.history(self.crm, self.actor, limit=PAGE,
                                          before_id=after.id if after else None)

        self.call_domain(read, group=f"list-{which}",
                         on_done=lambda rows: self._loaded(which, rows, after is not None),
                         on_error=lambda text: self._failed(which, text))
        if which == "mine" and after is None:
            self.call_domain(unseen_decisions, self.crm, self.actor, group="news",
                             on_done=self._show_news, on_error=lambda text: None)

    def _show_news(self, count: int) -> None:
        """我的申请 carries a badge while decisions on her requests are unseen."""
        label = t("tui.compliance.inbox.tab.mine")
        if count and self.current != "mine":
            label = f"{label} ({t('tui.ux.decided_badge', count=count)})"
        elif count:
            self._seen()
        self.query_one(TabbedContent).get_tab("approvals-mine").label = label  # type: ignore[assignment]

    def _seen(self) -> None:
        from crm_tui.domain.compliance.decision_news import mark_decisions_seen

        self.call_domain(mark_decisions_seen, self.crm, self.actor, group="seen",
                         on_done=lambda _: None, on_error=lambda text: None)

    @on(TabbedContent.TabActivated)
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        self.refresh_bindings()
        if self.current == "mine":
            self._seen()
            self.query_one(TabbedContent).get_tab("approvals-mine").label = t(  # type: ignore[assignment]
                "tui.compliance.inbox.tab.mine")

    def _failed(self, which: str, text: str) -> None:
        self._loading.discard(which)
        self.say(text, ok=False)

    def _loaded(self, which: str, rows: list[RequestSummary], append: bool) -> None:
        self._loading.discard(which)
        table = self.query_one(f"#approval-list-{which}", DataTable)
        if not append:
            table.clear()
            self.rows[which] = []
        now = datetime.now(self.crm.tz)
        for r in rows:
            table.add_row(f"#{r.id}", render(r.summary), state_text(r), age_text(r.created_at, now),
                          t(f"compliance.kind.{r.kind}"), r.maker_name, key=str(r.id))
        self.rows[which].extend(rows)
        self._more[which] = len(rows) == PAGE
        if which == "decide":
            count = len(self.rows[which])
            tabs = self.query_one(TabbedContent)
            tabs.get_tab("approvals-decide").label = t(  # type: ignore[assignment]
                "tui.compliance.inbox.tab.decide_count", count=f"{count}+" if self._more[which]
                else count)

    def _scrolled(self, which: str, scroll_y: float) -> None:
        table = self.query_one(f"#approval-list-{which}", DataTable)
        if scroll_y >= table.max_scroll_y - 1 and self._more[which] \
                and which not in self._loading and self.rows[which]:
            self._loading.add(which)
            self._fetch(which, self.rows[which][-1])

    # -- opening and deciding --------------------------------------------------------------

    def selected_to_decide(self) -> RequestSummary | None:
        """The highlighted request of the "to decide" list while that list is shown (what
        the palette's approve / reject act on), else None."""
        rid = self._highlighted() if self.current == "decide" else None
        return next((r for r in self.rows["decide"] if r.id == rid), None)

    def _highlighted(self) -> int | None:
        table = self.query_one(f"#approval-list-{self.current}", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(key) if key else None

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        from crm_tui.screens.approval_detail import ApprovalDetailScreen

        if event.row_key.value is not None:
            self.app.push_screen(ApprovalDetailScreen(int(event.row_key.value)), self._after_dialog)

    def _after_dialog(self, text: str | None) -> None:
        self.reload()
        refresh = getattr(self.screen, "refresh_badges", None)
        if refresh is not None:
            refresh()
        if text:
            self.say(text, ok=True)

    def action_approve(self) -> None:
        """`a`: approve the highlighted request; money and suitability overrides ask first."""
        from crm_tui.screens.confirm_modal import confirm_approval

        row = self.selected_to_decide()
        if row is None:
            return
        if row.kind in NEEDS_CONFIRMATION:
            confirm_approval(self.app, row.id, row.summary, lambda: self._approve(row.id))
        else:
            self._approve(row.id)

    def _approve(self, request_id: int) -> None:
        from crm_tui.domain.compliance import approvals

        def done(status: str) -> None:
            key = "tui.compliance.approved_final" if status == "approved" \
                else "tui.compliance.approved_level"
            self._after_dialog(None)
            self.say(t(key, id=request_id), ok=True)

        def refused(text: str) -> None:
            self._after_dialog(None)
            self.say(text, ok=False)

        self.call_domain(approvals.approve, self.crm, self.actor, request_id, group="decide",
                         block=True, on_done=done, on_error=refused)

    def action_reject(self) -> None:
        from crm_tui.screens.reject_modal import RejectModal

        rid = self._highlighted()
        if rid is not None and self.current == "decide":
            self.app.push_screen(RejectModal(rid), self._after_dialog)

"""The approval inbox: what the signed-in person may decide (oldest first), her own
requests (how a maker learns of approvals, rejections, expiry and stale refusals) and the
history of decided requests.

Lists are read by `domain.approval_views` in workers and paged by keyset. Enter opens a
request (diff, evidence, levels); `a` approves and `x` rejects the highlighted request
straight from the list, the reject asking for its required comment.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from crm_tui.i18n import render, t
from crm_tui.widgets.bindings import translate_bindings
from crm_tui.widgets.session import UsesCrm, failure_text

if TYPE_CHECKING:
    from crm_tui.domain.compliance.approval_views import RequestSummary

PAGE = 50
LISTS = ("decide", "mine", "history")
COLUMNS = (  # key, catalog key, width
    ("id", "tui.compliance.col.id", 5),
    ("kind", "tui.compliance.col.kind", 20),
    ("maker", "tui.compliance.col.maker", 6),
    ("age", "tui.compliance.col.age", 9),
    ("state", "tui.compliance.col.state", 16),
    ("summary", "tui.compliance.col.summary", 48),
)


def age_text(created: datetime, now: datetime) -> str:
    """How long a request has waited: `3d 4h`, `5h 10m`, `12m`."""
    left = max(now - created, timedelta(0))
    days, rest = divmod(int(left.total_seconds()), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return t("tui.compliance.age.days", d=days, h=hours)
    if hours:
        return t("tui.compliance.age.hours", h=hours, m=minutes)
    return t("tui.compliance.age.minutes", m=minutes)


def state_text(r: RequestSummary) -> str:
    if r.status == "pending":
        role = t(f"role.{r.next_role}") if r.next_role else ""
        return t("tui.compliance.state.waiting", level=r.next_level + 1, total=r.levels_total,
                 role=role)
    return t(f"compliance.status.{r.status}")


class ApprovalInboxPane(UsesCrm, Vertical):
    """The "Approvals" area."""

    DEFAULT_CSS = """
    ApprovalInboxPane #approval-tabs { height: 1fr; margin-top: 1; }
    ApprovalInboxPane DataTable { height: 1fr; background: $background; }
    ApprovalInboxPane #approval-message.-error { color: $error; }
    """
    BINDINGS = [
        Binding("a", "approve", "tui.compliance.key.approve", id="approval-approve"),
        Binding("x", "reject", "tui.compliance.key.reject", id="approval-reject"),
        Binding("r", "reload", "tui.compliance.key.reload", id="approval-reload"),
    ]

    class Loaded(Message):
        def __init__(self, which: str, rows: list[RequestSummary], append: bool,
                     error: str = "") -> None:
            super().__init__()
            self.which, self.rows, self.append, self.error = which, rows, append, error

    class Decided(Message):
        def __init__(self, text: str, ok: bool) -> None:
            super().__init__()
            self.text, self.ok = text, ok

    def __init__(self) -> None:
        super().__init__(classes="area-pane")
        translate_bindings(self)
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

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        for which in LISTS:
            self._loading.add(which)
            self._fetch(which, None)

    @work(thread=True, group="approvals")
    def _fetch(self, which: str, after: RequestSummary | None) -> None:
        from crm_tui.domain.compliance import approval_views
        from crm_tui.domain.kernel.permissions import Perm, can

        try:
            if which == "decide":
                rows = (approval_views.inbox(
                            self.crm, self.actor, limit=PAGE,
                            after=(after.created_at, after.id) if after else None)
                        if can(self.actor, Perm.APPROVAL_DECIDE) else [])
            elif which == "mine":
                rows = approval_views.my_requests(self.crm, self.actor, limit=PAGE,
                                                  before_id=after.id if after else None)
            else:
                rows = approval_views.history(self.crm, self.actor, limit=PAGE,
                                              before_id=after.id if after else None)
        except Exception as exc:
            self.post_message(self.Loaded(which, [], after is not None, failure_text(self, exc)))
        else:
            self.post_message(self.Loaded(which, rows, after is not None))

    def on_approval_inbox_pane_loaded(self, message: Loaded) -> None:
        which = message.which
        self._loading.discard(which)
        if message.error:
            self.say(message.error, ok=False)
            return
        table = self.query_one(f"#approval-list-{which}", DataTable)
        if not message.append:
            table.clear()
            self.rows[which] = []
        now = datetime.now(self.crm.tz)
        for r in message.rows:
            table.add_row(f"#{r.id}", t(f"compliance.kind.{r.kind}"), r.maker_name,
                          age_text(r.created_at, now), state_text(r),
                          render(r.summary), key=str(r.id))
        self.rows[which].extend(message.rows)
        self._more[which] = len(message.rows) == PAGE
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
        rid = self._highlighted()
        if rid is not None and self.current == "decide":
            self._approve(rid)

    @work(thread=True, group="approvals-decide")
    def _approve(self, request_id: int) -> None:
        from crm_tui.domain.compliance import approvals

        try:
            status = approvals.approve(self.crm, self.actor, request_id)
        except Exception as exc:
            self.post_message(self.Decided(failure_text(self, exc), ok=False))
        else:
            key = "tui.compliance.approved_final" if status == "approved" \
                else "tui.compliance.approved_level"
            self.post_message(self.Decided(t(key, id=request_id), ok=True))

    def action_reject(self) -> None:
        from crm_tui.screens.approval_detail import RejectModal

        rid = self._highlighted()
        if rid is not None and self.current == "decide":
            self.app.push_screen(RejectModal(rid), self._after_dialog)

    def on_approval_inbox_pane_decided(self, message: Decided) -> None:
        self._after_dialog(None)
        self.say(message.text, ok=message.ok)

    def say(self, text: str, *, ok: bool) -> None:
        line = self.query_one("#approval-message", Static)
        line.update(text)
        line.set_class(not ok, "-error")

"""My day (f8), the RM's home: today's and overdue tasks — lead SLAs, reviews, care calls,
tickets, complaint actions — soonest due first, done from the keyboard. A review done here
also records its interaction on the customer (service.reviews.complete_my_task).

Keys: d done · n done with a note · o open the customer · r reload.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from crm_tui.i18n import t
from crm_tui.screens.reason_modal import ReasonModal
from crm_tui.widgets.data_table import DataTable
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.formatting import moment
from crm_tui.widgets.session import UsesCrm

if TYPE_CHECKING:
    from crm_tui.domain.workflow.tasks import TaskView

PAGE = 200
COLUMNS = (
    ("due", "tui.myday.col.due", 16),
    ("kind", "tui.myday.col.kind", 10),
    ("title", "tui.myday.col.title", 48),
    ("customer", "tui.myday.col.customer", 10),
)


def clock() -> datetime:
    return datetime.now(UTC)


def task_title(key: str, params: dict[str, Any]) -> str:
    """Params ending in `_key` are catalog keys: translated and passed without the suffix."""
    values = {k.removesuffix("_key"): t(str(v)) for k, v in params.items()
              if k.endswith("_key") and v}
    values.update({k: v for k, v in params.items() if not k.endswith("_key")})
    return t(key, **values)


def end_of_today(now: datetime, tz: Any, today: Any = None) -> datetime:
    day = today or now.astimezone(tz).date()
    return datetime.combine(day + timedelta(days=1), time(0), tz)


class MyDayPane(DomainCalls, UsesCrm, Vertical):
    DEFAULT_CSS = """
    MyDayPane #myday-table { height: 1fr; margin-top: 1; background: $background; }
    MyDayPane #myday-message.-error { color: $error; }
    MyDayPane #myday-script { height: auto; max-height: 6; color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [
        Binding("d", "done", "tui.myday.key.done", id="myday-done"),
        Binding("n", "done_with_note", "tui.myday.key.note", id="myday-note"),
        Binding("o", "open_customer", "tui.myday.key.open", id="myday-open"),
        Binding("r", "reload", "tui.myday.key.reload", id="myday-reload"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="area-pane")
        self.rows: list[TaskView] = []

    def compose(self) -> ComposeResult:
        yield Static(t("tui.myday.title"), classes="pane-title")
        yield Static("", id="myday-summary", classes="pane-status", markup=False)
        table: DataTable[str | Text] = DataTable(id="myday-table", cursor_type="row",
                                                 zebra_stripes=True)
        for key, label, width in COLUMNS:
            table.add_column(t(label), width=width, key=key)
        yield table
        yield Static("", id="myday-script", markup=False)
        yield Static("", id="myday-message", classes="pane-status", markup=False)

    def on_mount(self) -> None:
        self.reload()

    def focus_default(self) -> None:
        self.query_one("#myday-table", DataTable).focus()

    def reload(self) -> None:
        from crm_tui.domain.workflow.tasks import list_tasks

        until = end_of_today(clock(), self.crm.tz, self.today)
        self.call_domain(list_tasks, self.crm, self.actor, owner_id=self.actor.id,
                         due_before=until, limit=PAGE, on_done=self._show, group="load")

    def _show(self, rows: list[TaskView]) -> None:
        table = self.query_one("#myday-table", DataTable)
        keep = table.cursor_row
        table.clear()
        self.rows = rows
        now = clock()
        tz = self.crm.tz
        overdue = 0
        for r in rows:
            late = r.due_at < now
            overdue += late
            due = Text(moment(r.due_at, tz), style="bold red" if late else "")
            table.add_row(due, t(f"tui.myday.kind.{r.kind}"), task_title(r.title_key, r.params),
                          r.customer_name or "—", key=str(r.id))
        if rows:
            table.move_cursor(row=min(keep, len(rows) - 1))
        self.query_one("#myday-summary", Static).update(
            t("tui.myday.summary", total=len(rows), overdue=overdue) if rows else t("tui.myday.none"))
        self._show_script()

    @on(DataTable.RowHighlighted, "#myday-table")
    def _highlighted_changed(self, event: DataTable.RowHighlighted) -> None:
        self._show_script()

    def _show_script(self) -> None:
        task = self.highlighted()
        key = (task.params or {}).get("script_key") if task else None
        self.query_one("#myday-script", Static).update(t(str(key)) if key else "")

    def highlighted(self) -> TaskView | None:
        table = self.query_one("#myday-table", DataTable)
        if not table.row_count or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def action_reload(self) -> None:
        self.reload()

    def action_done(self) -> None:
        from crm_tui.domain.service.reviews import complete_my_task

        task = self.highlighted()
        if task is None:
            return
        self.call_domain(complete_my_task, self.crm, self.actor, task.id, "",
                         on_done=lambda _r: self._changed(task.id), group="done", block=True)

    def action_done_with_note(self) -> None:
        task = self.highlighted()
        if task is not None:
            self.app.push_screen(TaskNoteModal(task.id), self._noted)

    def _noted(self, text: str | None) -> None:
        if text:
            self.say(text, ok=True)
            self.reload()

    def _changed(self, task_id: int) -> None:
        self.say(t("tui.myday.done", id=task_id), ok=True)
        self.reload()
        refresh = getattr(self.screen, "refresh_badges", None)
        if refresh is not None:
            refresh()

    def action_open_customer(self) -> None:
        task = self.highlighted()
        if task is not None and task.customer_id is not None:
            opener = getattr(self.app, "open_customer", None)
            if opener is not None:
                opener(task.customer_id)

    @on(DataTable.RowSelected, "#myday-table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_done_with_note()

    def say(self, text: str, *, ok: bool) -> None:
        line = self.query_one("#myday-message", Static)
        line.update(text)
        line.set_class(not ok, "-error")


class TaskNoteModal(ReasonModal):
    FIELD = "note"
    INPUT_ID = "task-note"
    SUBMIT_LABEL = "tui.myday.submit"

    def __init__(self, task_id: int) -> None:
        super().__init__(t("tui.myday.note_title", id=task_id))
        self.task_id = task_id

    def perform(self, text: str) -> None:
        from crm_tui.domain.service.reviews import complete_my_task

        complete_my_task(self.crm, self.actor, self.task_id, text)

    def done_text(self) -> str:
        return t("tui.myday.done", id=self.task_id)

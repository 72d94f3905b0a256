"""The complaint loop for one complaint ticket: every step with its time and owner, and a
form for the one step that is due (grade, investigate, resolve, feedback, review)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual.widget import Widget
from textual.widgets import Input, Select, Static

from crm_tui.i18n import t
from crm_tui.screens.form_modal import FormModal
from crm_tui.widgets.form_field import FormField
from crm_tui.widgets.formatting import moment

if TYPE_CHECKING:
    from crm_tui.domain.service.complaints import ComplaintView

STEP_FIELDS: dict[str, tuple[str, ...]] = {
    "graded": ("level",),
    "investigated": ("owner", "findings"),
    "resolved": ("remedy",),
    "feedback": ("feedback", "satisfied"),
    "reviewed": ("root_cause", "corrective_action", "owner"),
}


def loop_text(view: ComplaintView, tz: Any) -> str:
    lines = [t("tui.service.complaint.due", due=moment(view.due_at, tz))]
    for s in view.steps:
        mark = "✔" if s.done else ("▶" if s.step == view.next_step else "·")
        who = f"  {s.by}" if s.by else ""
        when = f"  {moment(s.at, tz)}" if s.at else ""
        detail = "  ".join(f"{v}" for v in s.detail.values() if v not in (None, ""))
        if s.step == "graded" and view.level:
            detail = t(f"service.level.{view.level}")
        lines.append(f"{mark} {t(f'service.step.{s.step}')}{when}{who}  {detail}".rstrip())
    return "\n".join(lines)


class ComplaintModal(FormModal[str]):
    SUBMIT_LABEL = "tui.service.submit.step"

    def __init__(self, ticket_id: int) -> None:
        super().__init__(t("tui.service.title.complaint", id=ticket_id))
        self.ticket_id = ticket_id
        self.complaint: ComplaintView | None = None

    def fields(self) -> Iterable[Widget]:
        yield Static("", id="complaint-loop", markup=False)
        # its choices come from the policy, read in the worker with the complaint
        yield FormField("level", t("field.level"), Select([], id="complaint-level", compact=True))
        for name in ("owner", "findings", "remedy", "feedback", "root_cause", "corrective_action"):
            yield FormField(name, t(f"field.{name}"), Input(id=f"complaint-{name}", compact=True))
        yield FormField("satisfied", t("tui.service.complaint.satisfied"), Select(
            [(t("tui.service.complaint.yes"), True), (t("tui.service.complaint.no"), False)],
            value=True, allow_blank=False, id="complaint-satisfied", compact=True))

    def on_mount(self) -> None:
        self._load()

    def _load(self) -> None:
        from crm_tui.domain.service.complaints import complaint_for_ticket

        crm, actor, ticket_id = self.crm, self.actor, self.ticket_id

        def read() -> tuple[ComplaintView | None, tuple[str, ...]]:
            return (complaint_for_ticket(crm, actor, ticket_id),
                    tuple(crm.policy().service.complaints.levels))

        self.call_domain(read, on_done=self._loaded, on_error=self.form_error, group="load")

    def _loaded(self, answer: tuple[ComplaintView | None, tuple[str, ...]]) -> None:
        view, levels = answer
        self.query_one("#complaint-level", Select).set_options(
            [(t(f"service.level.{v}"), v) for v in levels])
        self._show(view)

    def _show(self, view: ComplaintView | None) -> None:
        if view is None:
            self.form_error(t("tui.service.not_complaint", id=self.ticket_id))
            return
        self.complaint = view
        self.query_one("#complaint-loop", Static).update(loop_text(view, self.crm.tz))
        wanted = STEP_FIELDS.get(view.next_step or "", ())
        for row in self.query(FormField):
            row.display = row.field in wanted
        if not wanted:
            self.query_one("#form-submit").display = False
        first = next((r for r in self.query(FormField) if r.display), None)
        if first is not None:
            first.control.focus()

    def _value(self, name: str) -> Any:
        widget = self.query_one(f"#complaint-{name}")
        return widget.value  # type: ignore[attr-defined]

    def submit(self) -> None:
        view = self.complaint
        if view is None or view.next_step is None:
            self.busy = False
            return
        step, cid = view.next_step, view.id
        values = {n: self._value(n) for n in STEP_FIELDS[step] if n != "level"}
        level = self._level() if step == "graded" else ""
        self.call_domain(self._perform, step, cid, values, level,
                         on_done=lambda _r: self.dismiss(t("tui.service.done.step", id=cid,
                                                           step=t(f"service.step.{step}"))),
                         on_error=self._refused, group="step", block=True)

    def _level(self) -> str:
        value = self.query_one("#complaint-level", Select).value
        return value if isinstance(value, str) else ""

    def _perform(self, step: str, cid: int, v: dict[str, Any], level: str) -> None:
        from crm_tui.domain.service import complaints

        if step == "graded":
            complaints.grade(self.crm, self.actor, cid, level)
        elif step == "investigated":
            complaints.investigate(self.crm, self.actor, cid, v["owner"], v["findings"])
        elif step == "resolved":
            complaints.resolve(self.crm, self.actor, cid, v["remedy"])
        elif step == "feedback":
            complaints.record_feedback(self.crm, self.actor, cid, v["feedback"], bool(v["satisfied"]))
        else:
            complaints.review(self.crm, self.actor, cid, v["root_cause"], v["corrective_action"],
                              v["owner"])

    def _refused(self, text: str) -> None:
        self.failed(None, text)

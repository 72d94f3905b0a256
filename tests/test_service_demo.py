"""`crm demo` puts a working service desk in the database."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from crm_tui.demo.seed import seed_demo
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.service.outbox import list_outbox
from crm_tui.domain.service.queue import QueueFilter, all_states_page
from crm_tui.domain.workflow.notifications import list_notifications
from crm_tui.store.models import Staff
from crm_tui.store.models_service import Complaint
from crm_tui.store.models_workflow import Task

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Shanghai


def test_demo_has_tickets_in_every_state_a_complaint_reviews_and_care(sqlite_crm) -> None:
    seed_demo(sqlite_crm, system_actor("demo"), customers=200, password="demo-password-1",
              now=NOW)
    admin = system_actor()
    rows = all_states_page(sqlite_crm, admin, QueueFilter(), limit=100)
    assert {r.state for r in rows} == {"new", "assigned", "in_progress", "waiting_customer",
                                       "resolved", "closed"}
    assert any(r.breached for r in rows) and any(r.csat for r in rows)
    assert any(r.first_contact_resolution for r in rows)
    with sqlite_crm.db.read() as s:
        complaint = s.scalars(select(Complaint)).one()
        assert (complaint.step, complaint.level) == ("investigated", "major")
        reviews = s.scalar(select(func.count()).select_from(Task).where(Task.kind == "review"))
        assert reviews > 100
        bh1 = s.scalars(select(Staff).where(Staff.username == "bh1")).one()
    from crm_tui.domain.admin.auth import actor_of

    assert "service.notify.major_complaint" in {
        n.message_key for n in list_notifications(sqlite_crm, actor_of(bh1))}
    outbox = list_outbox(sqlite_crm, admin, limit=1000)
    assert "sent" in {m.state for m in outbox}
    assert any(m.state in ("retry", "failed") and m.last_error for m in outbox)
    assert any(m.trigger.startswith("holiday:") for m in outbox)
    assert any(m.trigger == "birthday" for m in outbox)
    assert audit.verify_chain(sqlite_crm.db).ok

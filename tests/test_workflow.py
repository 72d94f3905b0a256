"""The shared workflow area: notifications, tasks and the job registry (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.kernel.errors import NotFound
from crm_tui.domain.workflow import jobs, notifications, tasks
from crm_tui.store.models import AuditEvent
from crm_tui.store.models_workflow import Task

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def test_notifications_are_per_person_deduped_and_marked_read(crm, world) -> None:
    rm1, rm2 = world["rm1"], world["rm2"]
    with crm.db.write() as s:
        assert notifications.notify(s, rm1.id, "lead", "sales.note.assigned", {"lead": 1},
                                    entity="lead", entity_id=1, dedupe_key="lead:1:assigned")
        assert not notifications.notify(s, rm1.id, "lead", "sales.note.assigned", {"lead": 1},
                                        dedupe_key="lead:1:assigned")
        notifications.notify(s, rm1.id, "approval", "x.y", {})
        notifications.notify(s, rm2.id, "approval", "x.y", {})
    assert notifications.unread_count(crm, rm1) == 2
    page = notifications.list_notifications(crm, rm1)
    assert [n.message_key for n in page] == ["x.y", "sales.note.assigned"]  # newest first
    assert page[1].params == {"lead": 1} and page[1].entity == "lead"
    older = notifications.list_notifications(crm, rm1, before_id=page[0].id)
    assert [n.id for n in older] == [page[1].id]
    # rm1 cannot mark rm2's notification read
    rm2_id = notifications.list_notifications(crm, rm2)[0].id
    assert notifications.mark_read(crm, rm1, [rm2_id]) == 0
    assert notifications.unread_count(crm, rm2) == 1
    assert notifications.mark_read(crm, rm1, [page[0].id]) == 1
    assert notifications.unread_count(crm, rm1) == 1
    assert notifications.mark_read(crm, rm1) == 1
    assert notifications.list_notifications(crm, rm1, unread_only=True) == []


def test_tasks_are_idempotent_scoped_and_completed_with_audit(crm, world) -> None:
    rm1, rm3, sup1 = world["rm1"], world["rm3"], world["sup1"]
    system = system_actor("test")
    with crm.db.write() as s:
        first = tasks.create_task(crm.db, s, system, owner_id=rm1.id, kind="review",
                                  title_key="service.task.review", due_at=NOW,
                                  dedupe_key="review:1:2026Q4")
        again = tasks.create_task(crm.db, s, system, owner_id=rm1.id, kind="review",
                                  title_key="service.task.review", due_at=NOW,
                                  dedupe_key="review:1:2026Q4")
        tasks.create_task(crm.db, s, system, owner_id=rm1.id, kind="care_call",
                          title_key="service.task.care", due_at=NOW - timedelta(days=1))
        tasks.create_task(crm.db, s, system, owner_id=rm3.id, kind="other",
                          title_key="x", due_at=NOW)
    assert first is not None and again is None
    mine = tasks.list_tasks(crm, rm1)
    assert [t.kind for t in mine] == ["care_call", "review"]  # soonest due first
    assert {t.owner for t in tasks.list_tasks(crm, sup1)} == {"rm1"}  # rm3 is in the other team
    assert len(tasks.list_tasks(crm, system)) == 3
    with pytest.raises(NotFound):
        tasks.complete_task(crm, rm3, first, "not hers")
    tasks.complete_task(crm, rm1, first, "已回访客户满意")
    with crm.db.read() as s:
        done = s.get(Task, first)
        assert done.status == "done" and done.done_by == rm1.id and done.note == "已回访客户满意"
        assert s.scalar(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.action == "task.complete")) == 1
    assert [t.kind for t in tasks.list_tasks(crm, rm1)] == ["care_call"]


def test_job_registry_runs_every_job_idempotently(crm, world) -> None:
    first = jobs.run_all(crm, NOW)
    assert "expired" in first
    assert jobs.run_all(crm, NOW) == {k: 0 for k in first}
    with pytest.raises(ValueError):
        jobs.run_all(crm, datetime(2026, 12, 1))

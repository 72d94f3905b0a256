"""Tasks: what a person has to do and by when. Jobs of every area create them (lead first
contact, periodic reviews, care calls, tickets, maturities); the owner completes them from
"My day". Creation is idempotent by `dedupe_key`; completing one is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlmodel import Session

from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from crm_tui.domain.kernel.permissions import Role
from crm_tui.domain.kernel.validation import normalise_prose
from crm_tui.store.db import Database
from crm_tui.store.models import Customer, Staff
from crm_tui.store.models_workflow import Task
from crm_tui.store.types import utcnow

PAGE = 100
NOTE_MAX = 2000
KINDS = ("lead_contact", "onboarding", "review", "care_call", "ticket", "maturity", "complaint",
         "follow_up", "other")


@dataclass(frozen=True)
class TaskView:
    id: int
    owner: str
    kind: str
    title_key: str
    params: dict[str, Any]
    customer_id: int | None
    customer_name: str | None
    entity: str | None
    entity_id: int | None
    due_at: datetime
    status: str
    done_at: datetime | None
    note: str | None


def create_task(db: Database, session: Session, actor: Actor, *, owner_id: int, kind: str,
                title_key: str, due_at: datetime, params: dict[str, Any] | None = None,
                customer_id: int | None = None, entity: str | None = None,
                entity_id: int | None = None, dedupe_key: str | None = None) -> int | None:
    """One task in the caller's transaction, audited; None when `dedupe_key` exists already."""
    if kind not in KINDS:
        raise ValueError(f"unknown task kind {kind!r}")
    if dedupe_key is not None and session.scalar(
            select(Task.id).where(Task.dedupe_key == dedupe_key)) is not None:
        return None
    task = Task(owner_id=owner_id, kind=kind, title_key=title_key, params=params or {},
                customer_id=customer_id, entity=entity, entity_id=entity_id, due_at=due_at,
                dedupe_key=dedupe_key, created_at=utcnow())
    session.add(task)
    session.flush()
    audit.record(db, session, actor, "task.create", "task", task.id, None,
                 {"owner_id": owner_id, "kind": kind, "due_at": due_at, "entity": entity,
                  "entity_id": entity_id})
    return task.id


def cancel_tasks(db: Database, session: Session, actor: Actor, *, entity: str,
                 entity_id: int, kind: str | None = None) -> int:
    """Cancel the open tasks about one record (a lead contacted, a ticket closed)."""
    q = select(Task).where(Task.entity == entity, Task.entity_id == entity_id,
                           Task.status == "open")
    if kind is not None:
        q = q.where(Task.kind == kind)
    n = 0
    for task in session.scalars(q):
        task.status = "cancelled"
        task.done_at = utcnow()
        session.add(task)
        audit.record(db, session, actor, "task.cancel", "task", task.id, {"status": "open"},
                     {"status": "cancelled"})
        n += 1
    return n


def _visible_owners(actor: Actor) -> ColumnElement[bool]:
    """Whose tasks the actor may see: her own; a supervisor her team's; a branch head her
    branch's; the system (CLI) everybody's."""
    if actor.id is None and actor.role == Role.ADMIN.value:
        return true()
    if actor.role == Role.SUPERVISOR.value and actor.team_id is not None:
        return Task.owner_id.in_(select(Staff.id).where(Staff.team_id == actor.team_id))  # type: ignore[union-attr]
    if actor.role == Role.BRANCH_HEAD.value and actor.branch_id is not None:
        return Task.owner_id.in_(select(Staff.id).where(Staff.branch_id == actor.branch_id))  # type: ignore[union-attr]
    return Task.owner_id == actor.id  # type: ignore[return-value]


def list_tasks(crm: Crm, actor: Actor, *, owner_id: int | None = None, status: str | None = "open",
               due_before: datetime | None = None, after: tuple[datetime, int] | None = None,
               limit: int = PAGE) -> list[TaskView]:
    """Tasks the actor may see, soonest due first, keyset-paged on (due_at, id)."""
    owner = Staff.__table__.alias("owner")  # type: ignore[attr-defined]
    q = (select(Task, owner.c.username, Customer.name)
         .join(owner, owner.c.id == Task.owner_id)
         .outerjoin(Customer, Customer.id == Task.customer_id)
         .where(_visible_owners(actor)))
    if owner_id is not None:
        q = q.where(Task.owner_id == owner_id)
    if status is not None:
        q = q.where(Task.status == status)
    if due_before is not None:
        q = q.where(Task.due_at < due_before)  # type: ignore[operator]
    if after is not None:
        q = q.where(or_(Task.due_at > after[0],  # type: ignore[operator]
                        and_(Task.due_at == after[0], Task.id > after[1])))  # type: ignore[operator]
    q = q.order_by(Task.due_at, Task.id).limit(limit)
    with crm.db.read() as session:
        return [TaskView(t.id or 0, user, t.kind, t.title_key, dict(t.params or {}), t.customer_id,
                         cname, t.entity, t.entity_id, t.due_at, t.status, t.done_at, t.note)
                for t, user, cname in session.execute(q)]


def complete_task(crm: Crm, actor: Actor, task_id: int, note: str = "") -> None:
    """The owner (or her supervisor / branch head) marks a task done, with an optional note."""
    note = normalise_prose(note or "")
    if len(note) > NOTE_MAX:
        raise ValidationFailed([FieldError("note", "validation.too_long", {"max": NOTE_MAX})])
    with crm.db.write() as session:
        task = session.scalars(select(Task).where(Task.id == task_id,
                                                  _visible_owners(actor))).first()
        if task is None:
            raise NotFound("error.task_not_found", id=task_id)
        if task.status != "open":
            raise PermissionDenied(role=actor.role, action="task.complete")
        task.status = "done"
        task.done_at = utcnow()
        task.done_by = actor.id
        task.note = note or None
        session.add(task)
        audit.record(crm.db, session, actor, "task.complete", "task", task_id,
                     {"status": "open"}, {"status": "done", "note": note or None})

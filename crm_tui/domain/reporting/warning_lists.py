"""The two early-warning lists as one interface for the screen and `crm warnings`: a page
(access-logged, since it shows customers' names), the whole list (page after page), a
follow-up task per customer for the owning RM (idempotent), and the export.

Tasks: one `follow_up` task per listed customer for her RM, due `task_due_days` later,
about entity `churn_risk` / `cross_sell` and the customer. A customer who already has an
open task of that list gets none (and the dedupe key stops a second one the same day), so
running it twice creates nothing twice. Customers without an RM are counted, not assigned.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from crm_tui.domain.kernel.access_log import log_access
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, PermissionDenied, ValidationFailed
from crm_tui.domain.kernel.permissions import Role
from crm_tui.domain.reporting.base import KpiFilter
from crm_tui.domain.reporting.churn_risk import ChurnRiskRow, as_of_utc, churn_risks
from crm_tui.domain.reporting.cross_sell import CrossSellRow, cross_sell_candidates
from crm_tui.domain.workflow.tasks import create_task
from crm_tui.store.models_workflow import Task

LISTS = ("churn", "cross_sell")
ENTITY = {"churn": "churn_risk", "cross_sell": "cross_sell"}
TASK_ROLES = (Role.RM.value, Role.SUPERVISOR.value, Role.BRANCH_HEAD.value)
TASK_CHUNK = 200

Row = ChurnRiskRow | CrossSellRow


def check_list(kind: str) -> None:
    if kind not in LISTS:
        raise ValidationFailed([FieldError("list", "validation.choice", {"value": kind})])


def warning_page(crm: Crm, actor: Actor, kind: str, f: KpiFilter | None = None, *,
                 as_of: datetime | None = None, after: Any = None, limit: int = 100,
                 log: bool = True) -> list[Row]:
    """One page of `kind`; the names on it are written to the access log (PIPL)."""
    check_list(kind)
    reader = churn_risks if kind == "churn" else cross_sell_candidates
    rows: list[Row] = list(reader(crm, actor, f, as_of=as_of, after=after, limit=limit))
    if log and rows:
        log_access(crm.db, actor, "list", ids=[r.customer_id for r in rows])
    return rows


def every_row(crm: Crm, actor: Actor, kind: str, f: KpiFilter | None = None, *,
              as_of: datetime | None = None, page: int = 1000) -> Iterator[Row]:
    """The whole list in order, one keyset page at a time (not logged: the caller logs)."""
    at = as_of_utc(as_of)
    after = None
    while True:
        rows = warning_page(crm, actor, kind, f, as_of=at, after=after, limit=page, log=False)
        yield from rows
        if len(rows) < page:
            return
        after = rows[-1].cursor()


@dataclass(frozen=True)
class TaskOutcome:
    created: int
    existing: int
    """Customers who already had an open task from this list (or one made today)."""
    without_rm: int


def _may_assign(actor: Actor) -> None:
    # the line (an RM for her own book, a supervisor for the team, a branch head for the
    # branch) or the operator at the machine (`crm warnings … --tasks`, no --as)
    if actor.role not in TASK_ROLES and actor.id is not None:
        raise PermissionDenied(role=actor.role, action="warning.tasks")


def _params(kind: str, row: Row) -> dict[str, Any]:
    if isinstance(row, ChurnRiskRow):
        return {"customer": row.customer, "score": row.score}
    return {"customer": row.customer, "category_key": f"tui.product_category.{row.category}"}


def make_tasks(crm: Crm, actor: Actor, kind: str, f: KpiFilter | None = None, *,
               as_of: datetime | None = None) -> TaskOutcome:
    """A follow-up task for the owning RM of every customer on the list (see the docstring)."""
    check_list(kind)
    _may_assign(actor)
    at = as_of_utc(as_of)
    due = at + timedelta(days=crm.policy().reporting.churn_risk.task_due_days)
    entity = ENTITY[kind]
    created = existing = without_rm = 0
    batch: list[Row] = []

    def flush() -> None:
        nonlocal created, existing
        with crm.db.write() as session:
            open_now = set(session.scalars(select(Task.entity_id).where(
                Task.entity == entity, Task.status == "open",
                Task.entity_id.in_([r.customer_id for r in batch]))))  # type: ignore[union-attr]
            for r in batch:
                if r.customer_id in open_now:
                    existing += 1
                    continue
                made = create_task(crm.db, session, actor, owner_id=r.rm_id or 0, kind="follow_up",
                                   title_key=f"reporting.warning.task.{kind}", due_at=due,
                                   params=_params(kind, r), customer_id=r.customer_id,
                                   entity=entity, entity_id=r.customer_id,
                                   dedupe_key=f"{entity}:{r.customer_id}:{at.date().isoformat()}")
                if made is None:
                    existing += 1
                else:
                    created += 1
        batch.clear()

    for row in every_row(crm, actor, kind, f, as_of=at):
        if row.rm_id is None:
            without_rm += 1
            continue
        batch.append(row)
        if len(batch) >= TASK_CHUNK:
            flush()
    if batch:
        flush()
    return TaskOutcome(created, existing, without_rm)

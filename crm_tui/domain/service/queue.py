"""The ticket queue read model: my queue, the team queue, everything in scope; ordered by
time to breach and keyset-paged on (next_due_at, id), so a page of a million-ticket table
reads one index range. Resolved and closed tickets (no deadline) page newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select

from crm_tui.domain.forms.filters import CustomFilter
from crm_tui.domain.forms.filters import clauses as custom_clauses
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, ValidationFailed
from crm_tui.domain.policy.service_policy import PRIORITIES, TICKET_TYPES
from crm_tui.domain.service.tickets import STATES, ticket_scope
from crm_tui.store.models import Customer, Staff
from crm_tui.store.models_service import Ticket

PAGE = 50
VIEWS = ("mine", "team", "all")


@dataclass(frozen=True)
class TicketRow:
    id: int
    type: str
    priority: str
    state: str
    queue: str
    assignee: str | None
    customer_id: int
    customer_name: str
    subject: str
    created_at: datetime
    first_response_due: datetime
    resolution_due: datetime
    next_due_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    breached: bool
    paused: bool
    csat: int | None
    first_contact_resolution: bool | None
    version: int

    def as_json(self) -> dict[str, object]:
        """The `crm tickets list --json` contract (times ISO 8601 with offset)."""
        def iso(v: datetime | None) -> str | None:
            return v.isoformat() if v else None
        return {"id": self.id, "type": self.type, "priority": self.priority, "state": self.state,
                "queue": self.queue, "assignee": self.assignee, "customer_id": self.customer_id,
                "subject": self.subject, "created_at": iso(self.created_at),
                "first_response_due": iso(self.first_response_due),
                "resolution_due": iso(self.resolution_due),
                "first_response_at": iso(self.first_response_at),
                "resolved_at": iso(self.resolved_at), "breached": self.breached,
                "paused": self.paused, "csat": self.csat,
                "first_contact_resolution": self.first_contact_resolution}


@dataclass(frozen=True)
class QueueFilter:
    view: str = "all"
    type: str | None = None
    priority: str | None = None
    state: str | None = None
    queue: str | None = None
    custom: tuple[CustomFilter, ...] = ()
    """Filterable custom fields (`forms.filters.parse_filters`)."""

    def check(self) -> None:
        for name, value, choices in (("view", self.view, VIEWS), ("type", self.type, TICKET_TYPES),
                                     ("priority", self.priority, PRIORITIES),
                                     ("state", self.state, STATES)):
            if value is not None and value not in choices:
                raise ValidationFailed([FieldError(name, "validation.choice", {"value": value})])


Cursor = tuple[datetime | None, int]


def _view_clause(actor: Actor, view: str) -> ColumnElement[bool]:
    if view == "mine":
        return Ticket.assignee_id == actor.id  # type: ignore[return-value]
    if view == "team":
        if actor.team_id is not None:  # routed to the team, or worked by one of its members
            members = select(Staff.id).where(Staff.team_id == actor.team_id)
            return or_(Ticket.team_id == actor.team_id,  # type: ignore[arg-type]
                       Ticket.assignee_id.in_(members))  # type: ignore[union-attr]
        return and_(Ticket.branch_id == actor.branch_id,  # type: ignore[arg-type]
                    Ticket.team_id.is_(None))  # type: ignore[union-attr]
    return ticket_scope(actor)


def _closed(state: str | None) -> bool:
    return state in ("resolved", "closed")


def queue_page(crm: Crm, actor: Actor, flt: QueueFilter = QueueFilter(), *,
               after: Cursor | None = None, limit: int = PAGE) -> list[TicketRow]:
    """One page of the queue after `after` (the last row's `cursor(row)`)."""
    flt.check()
    limit = max(1, min(limit, 500))
    q = _select().where(_view_clause(actor, flt.view))
    if flt.view != "all":
        q = q.where(ticket_scope(actor))
    for column, value in ((Ticket.type, flt.type), (Ticket.priority, flt.priority),
                          (Ticket.state, flt.state), (Ticket.queue, flt.queue)):
        if value is not None:
            q = q.where(column == value)
    q = q.where(*custom_clauses(flt.custom, Ticket.custom))
    if _closed(flt.state):
        q = q.where(Ticket.next_due_at.is_(None))  # type: ignore[union-attr]
        if after is not None:
            q = q.where(Ticket.id < after[1])  # type: ignore[operator]
        q = q.order_by(Ticket.id.desc())  # type: ignore[union-attr]
    else:
        q = q.where(Ticket.next_due_at.is_not(None))  # type: ignore[union-attr]
        if after is not None and after[0] is not None:
            q = q.where(or_(Ticket.next_due_at > after[0],  # type: ignore[operator]
                            and_(Ticket.next_due_at == after[0], Ticket.id > after[1])))
        q = q.order_by(Ticket.next_due_at, Ticket.id)
    with crm.db.read() as session:
        rows = session.execute(q.limit(limit)).all()
    return [_row(r) for r in rows]


def cursor(row: TicketRow) -> Cursor:
    return (row.next_due_at, row.id)


# The columns a row needs, selected as plain values (no ORM identity map on a hot path).
_COLUMNS = (Ticket.id, Ticket.type, Ticket.priority, Ticket.state, Ticket.queue,
            Ticket.customer_id, Ticket.subject, Ticket.created_at, Ticket.first_response_due,
            Ticket.resolution_due, Ticket.next_due_at, Ticket.first_response_at,
            Ticket.resolved_at, Ticket.breached, Ticket.paused_at, Ticket.csat,
            Ticket.first_contact_resolution, Ticket.version)


def _select():  # type: ignore[no-untyped-def]
    assignee = Staff.__table__.alias("assignee")  # type: ignore[attr-defined]
    return (select(*_COLUMNS, assignee.c.username, Customer.name)
            .join(Customer, Customer.id == Ticket.customer_id)
            .outerjoin(assignee, assignee.c.id == Ticket.assignee_id))


def _row(r) -> TicketRow:  # type: ignore[no-untyped-def]
    (tid, typ, prio, state, queue, cid, subject, created, frd, rd, nd, fra, ra, breached, paused,
     csat, fcr, version, user, name) = r
    return TicketRow(tid, typ, prio, state, queue, user, cid, name, subject, created, frd, rd, nd,
                     fra, ra, bool(breached), paused is not None, csat, fcr, version)


def get_ticket(crm: Crm, actor: Actor, ticket_id: int) -> TicketRow:
    from crm_tui.domain.kernel.errors import NotFound

    q = _select().where(Ticket.id == ticket_id, ticket_scope(actor))
    with crm.db.read() as session:
        found = session.execute(q).first()
    if found is None:
        raise NotFound("service.error.ticket_not_found", id=ticket_id)
    return _row(found)


def all_states_page(crm: Crm, actor: Actor, flt: QueueFilter = QueueFilter(), *,
                    before_id: int | None = None, limit: int = PAGE) -> list[TicketRow]:
    """Every state, newest first, keyset on id (for `crm tickets list`)."""
    flt.check()
    q = _select().where(ticket_scope(actor))
    for column, value in ((Ticket.type, flt.type), (Ticket.priority, flt.priority),
                          (Ticket.state, flt.state), (Ticket.queue, flt.queue)):
        if value is not None:
            q = q.where(column == value)
    q = q.where(*custom_clauses(flt.custom, Ticket.custom))
    if before_id is not None:
        q = q.where(Ticket.id < before_id)  # type: ignore[operator]
    with crm.db.read() as session:
        rows = session.execute(q.order_by(Ticket.id.desc()).limit(limit)).all()  # type: ignore[union-attr]
    return [_row(r) for r in rows]


def count_mine(crm: Crm, actor: Actor) -> int:
    """Open tickets assigned to the actor (the area's badge)."""
    from sqlalchemy import func

    if actor.id is None:
        return 0
    with crm.db.read() as session:
        return session.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.assignee_id == actor.id, Ticket.next_due_at.is_not(None))) or 0  # type: ignore[union-attr]

"""The pipeline board's read side: per-column count and total (one GROUP BY), and each
column's cards paged by keyset on (stage_entered_at, id) — oldest in stage first — within
the viewer's scope (an RM her own, a supervisor her team's, a branch head her branch's).
Nothing loads every card; the scope columns lead the board indexes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlmodel import Session

from crm_tui.domain.forms.filters import CustomFilter
from crm_tui.domain.forms.filters import clauses as custom_clauses
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.permissions import Role
from crm_tui.domain.kernel.validation import from_fen
from crm_tui.domain.sales.opportunities import STAGES
from crm_tui.store.models import Customer, Product, Staff, Team
from crm_tui.store.models_sales import Lead, Opportunity
from crm_tui.store.types import utcnow

PAGE = 25
FIRST_PAGE = 12
"""Cards per column on first paint: a screenful (more only cost rendering time)."""


@dataclass(frozen=True)
class BoardFilter:
    owner: str | None = None
    team: str | None = None
    """A team's name."""
    product_code: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    custom: tuple[CustomFilter, ...] = ()
    """Filterable custom fields (`forms.filters.parse_filters`)."""


@dataclass(frozen=True)
class Column:
    stage: str
    count: int
    total: Decimal


@dataclass(frozen=True)
class Card:
    id: int
    stage: str
    customer_id: int
    customer: str
    product: str | None
    amount: Decimal
    owner: str
    created_at: datetime
    stage_entered_at: datetime
    assigned_at: datetime | None
    first_contact_due: datetime | None
    first_contact_at: datetime | None
    breached: bool
    extra: dict[str, str] = field(default_factory=dict)

    def age(self, now: datetime) -> str:
        secs = max(0, int((now - self.stage_entered_at).total_seconds()))
        days, hours = secs // 86400, secs % 86400 // 3600
        return f"{days}d{hours}h" if days else f"{hours}h"


def board_scope(actor: Actor) -> ColumnElement[bool]:
    if actor.id is None and actor.role == Role.ADMIN.value:
        return true()
    if actor.role == Role.RM.value:
        return Opportunity.owner_id == actor.id  # type: ignore[return-value]
    if actor.role == Role.SUPERVISOR.value and actor.team_id is not None:
        return Opportunity.team_id == actor.team_id  # type: ignore[return-value]
    if actor.role == Role.BRANCH_HEAD.value and actor.branch_id is not None:
        return Opportunity.branch_id == actor.branch_id  # type: ignore[return-value]
    if actor.role in (Role.COMPLIANCE.value, Role.RISK.value):
        return true()
    return false()


def _filtered(q, f: BoardFilter):  # type: ignore[no-untyped-def]
    if f.owner:
        q = q.where(Opportunity.owner_id == select(Staff.id).where(
            Staff.username == f.owner).scalar_subquery())
    if f.team:
        q = q.where(Opportunity.team_id.in_(select(Team.id).where(Team.name == f.team)))  # type: ignore[union-attr]
    if f.product_code:
        q = q.where(Opportunity.product_id == select(Product.id).where(
            Product.code == f.product_code).scalar_subquery())
    if f.since is not None:
        q = q.where(Opportunity.created_at >= f.since)  # type: ignore[operator]
    if f.until is not None:
        q = q.where(Opportunity.created_at < f.until)  # type: ignore[operator]
    return q.where(*custom_clauses(f.custom, Opportunity.custom))


def columns(crm: Crm, actor: Actor, f: BoardFilter | None = None) -> list[Column]:
    """Count and total amount per stage, in board order (every stage, zeros included)."""
    with crm.db.read() as session:
        return _columns(session, actor, f)


def _columns(session: Session, actor: Actor, f: BoardFilter | None) -> list[Column]:
    q = (select(Opportunity.stage, func.count(), func.coalesce(func.sum(Opportunity.amount_fen), 0))
         .where(board_scope(actor)).group_by(Opportunity.stage))
    got = {s: (n, total) for s, n, total in session.execute(_filtered(q, f or BoardFilter()))}
    return [Column(s, got.get(s, (0, 0))[0], from_fen(int(got.get(s, (0, 0))[1]))) for s in STAGES]


_OWNER = Staff.__table__.alias("owner")  # type: ignore[attr-defined]
"""Built once: a fresh alias per query cost more than the query (its column proxies)."""


def cards_query(actor: Actor, stage: str | None, f: BoardFilter,
                after: tuple[datetime, int] | None, limit: int):  # type: ignore[no-untyped-def]
    owner = _OWNER
    q = (select(Opportunity.id, Opportunity.stage, Opportunity.customer_id, Customer.name,
                Product.name, Opportunity.amount_fen, owner.c.username, Opportunity.created_at,
                Opportunity.stage_entered_at, Lead.assigned_at, Lead.first_contact_due,
                Lead.first_contact_at, Lead.breached_at)
         .join(Customer, Customer.id == Opportunity.customer_id)
         .join(owner, owner.c.id == Opportunity.owner_id)
         .outerjoin(Product, Product.id == Opportunity.product_id)
         .outerjoin(Lead, Lead.id == Opportunity.lead_id)
         .where(board_scope(actor)))
    if stage is not None:
        q = q.where(Opportunity.stage == stage)
    if after is not None:
        q = q.where(or_(Opportunity.stage_entered_at > after[0],  # type: ignore[operator]
                        and_(Opportunity.stage_entered_at == after[0], Opportunity.id > after[1])))  # type: ignore[operator]
    return _filtered(q, f).order_by(Opportunity.stage_entered_at, Opportunity.id).limit(limit)


def column_cards(crm: Crm, actor: Actor, stage: str | None, f: BoardFilter | None = None, *,
                 after: tuple[datetime, int] | None = None, limit: int = PAGE,
                 now: datetime | None = None) -> list[Card]:
    """One page of a column (or of every stage, for `crm opportunities list`)."""
    now = now or utcnow()
    with crm.db.read() as session:
        return _cards(session, actor, stage, f, after, limit, now)


def _cards(session: Session, actor: Actor, stage: str | None, f: BoardFilter | None,
           after: tuple[datetime, int] | None, limit: int, now: datetime) -> list[Card]:
    rows = session.execute(cards_query(actor, stage, f or BoardFilter(), after, limit)).all()
    out = []
    for (oid, st, cid, cname, pname, amount, user, created, entered, assigned, due, first,
         breached_at) in rows:
        late = due is not None and (first or now) > due
        out.append(Card(oid, st, cid, cname, pname, from_fen(amount), user, created, entered,
                        assigned, due, first, breached_at is not None or late))
    return out


@dataclass(frozen=True)
class Board:
    columns: list[Column]
    pages: dict[str, list[Card]]
    now: datetime


def first_pages(crm: Crm, actor: Actor, f: BoardFilter | None = None, *,
                limit: int = FIRST_PAGE) -> Board:
    """Every column's first page, without the counts: six short index ranges, so the
    board can show its cards while `columns` (which reads every open card's index entry
    for the totals) is still counting."""
    now = utcnow()
    f = f or BoardFilter()
    with crm.db.read() as session:
        return Board([], {s: _cards(session, actor, s, f, None, limit, now) for s in STAGES}, now)


def load_board(crm: Crm, actor: Actor, f: BoardFilter | None = None, *,
               limit: int = FIRST_PAGE) -> Board:
    """Every column's count and total and its first page, in one read transaction (the
    counts match the cards): the whole first paint's database work in one call."""
    now = utcnow()
    f = f or BoardFilter()
    with crm.db.read() as session:
        return Board(_columns(session, actor, f),
                     {s: _cards(session, actor, s, f, None, limit, now) for s in STAGES}, now)


def parse_filter(owner: str, team: str, product: str, days: str) -> BoardFilter:
    """The board's filter form: blanks mean "any"; days is the period back from now."""
    from datetime import timedelta

    from crm_tui.domain.kernel.errors import FieldError, ValidationFailed
    from crm_tui.domain.kernel.validation import normalise_text

    since = None
    text = normalise_text(days)
    if text:
        if not text.isdigit() or not 0 < int(text) <= 3660:
            raise ValidationFailed([FieldError("period_days", "validation.max", {"max": 3660})])
        since = utcnow() - timedelta(days=int(text))
    return BoardFilter(owner=normalise_text(owner) or None, team=normalise_text(team) or None,
                       product_code=normalise_text(product).upper() or None, since=since)

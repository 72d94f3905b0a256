"""The read side of the approval engine: inbox, history, a maker's own requests and one
request in detail, as frozen views for the screens.

Who may decide what is worked out by the same helpers the deciding side uses
(`approval_scope`: `place`, `in_scope`, `scope_clause`, `why_not`), so a request appears in an
inbox exactly when approving it would be allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select
from sqlmodel import Session

from crm_tui.domain.compliance.approval_scope import (
    Place,
    actor_ref,
    in_scope,
    place,
    scope_clause,
    why_not,
)
from crm_tui.domain.compliance.policy_review import ReviewText, review_of
from crm_tui.domain.compliance.trade_view import TradeView, trade_of
from crm_tui.domain.forms.registry import custom_fields
from crm_tui.domain.forms.values import CHANGE_KIND
from crm_tui.domain.kernel.access_log import log_access
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import NotFound
from crm_tui.domain.kernel.messages import Msg, from_stored, label
from crm_tui.domain.kernel.permissions import Perm, Role, can, require
from crm_tui.store.models import Customer
from crm_tui.store.models_compliance import ApprovalDecision, ApprovalRequest
from crm_tui.store.types import utcnow

PAGE = 50
# Roles that oversee every request (read-only unless a level names them).
OVERSIGHT_ROLES = (Role.COMPLIANCE.value, Role.RISK.value)


@dataclass(frozen=True)
class RequestSummary:
    id: int
    kind: str
    status: str
    customer_id: int | None
    customer_name: str
    target: str
    maker_name: str
    created_at: datetime
    expires_at: datetime
    closed_at: datetime | None
    summary: Msg | None
    next_level: int
    levels_total: int
    next_role: str | None
    outcome: Msg | None  # why it closed (stale, expired...), None while open

    def age(self, now: datetime | None = None) -> timedelta:
        return (now or utcnow()) - self.created_at


@dataclass(frozen=True)
class LevelView:
    seq: int
    role: str
    scope: str
    status: str  # waiting | pending | approved | rejected | skipped
    decider_name: str = ""
    decided_at: datetime | None = None
    comment: str = ""


@dataclass(frozen=True)
class Change:
    field: Msg  # the field's label
    before: str
    after: str


@dataclass(frozen=True)
class RequestDetail:
    request: RequestSummary
    changes: tuple[Change, ...]
    evidence: tuple[tuple[Msg, str | Msg], ...]
    levels: tuple[LevelView, ...]
    can_decide: bool
    can_withdraw: bool
    why_not: Msg | None  # why the viewer cannot decide (None if she can)
    diff: str = ""  # a policy change's unified diff
    review: ReviewText | None = None
    """A policy or field-definition change in words, a policy change with its measured
    impact (`policy_review.review_of`)."""
    trade: TradeView | None = None  # a transaction request's trade


def _summarise(req: ApprovalRequest, customer_name: str | None) -> RequestSummary:
    display = req.payload.get("display", {})
    return RequestSummary(
        id=req.id or 0, kind=req.kind, status=req.status, customer_id=req.customer_id,
        customer_name=customer_name or "", target=f"{req.target_entity}:{req.target_id}",
        maker_name=req.maker_name, created_at=req.created_at, expires_at=req.expires_at,
        closed_at=req.closed_at, summary=from_stored(display.get("summary")),
        next_level=req.next_level,
        levels_total=req.levels_total, next_role=req.next_role,
        outcome=Msg(req.outcome_note) if req.outcome_note else None,
    )


def _with_names(session: Session, q: Any) -> list[RequestSummary]:
    rows = session.execute(
        q.add_columns(Customer.name).outerjoin(Customer, Customer.id == ApprovalRequest.customer_id)
    ).all()
    return [_summarise(r[0], r[1]) for r in rows]


def _logged(crm: Crm, actor: Actor, rows: list[RequestSummary]) -> list[RequestSummary]:
    """The access log (PIPL): a list that shows customers' names, once per page."""
    ids = [r.customer_id for r in rows if r.customer_id is not None and r.customer_name]
    if ids:
        log_access(crm.db, actor, "list", ids=ids)
    return rows


def _decidable_clause(session: Session, who: Place, now: datetime) -> ColumnElement[bool]:
    decided = exists().where(ApprovalDecision.request_id == ApprovalRequest.id,
                             ApprovalDecision.decider_id == who.id)
    return and_(ApprovalRequest.status == "pending", ApprovalRequest.expires_at > now,
                ApprovalRequest.next_role == who.role, ApprovalRequest.maker_ref != who.ref,
                scope_clause(who), ~decided)


def inbox(crm: Crm, actor: Actor, *, after: tuple[datetime, int] | None = None,
          limit: int = PAGE, now: datetime | None = None) -> list[RequestSummary]:
    """What the actor may decide now, oldest first, keyset-paged by (created_at, id)."""
    require(actor, Perm.APPROVAL_DECIDE)
    now = now or utcnow()
    with crm.db.read() as session:
        who = place(session, actor)
        q = (select(ApprovalRequest).where(_decidable_clause(session, who, now))
             .order_by(ApprovalRequest.created_at, ApprovalRequest.id).limit(limit))
        if after is not None:
            q = q.where(or_(ApprovalRequest.created_at > after[0],
                            and_(ApprovalRequest.created_at == after[0],
                                 ApprovalRequest.id > after[1])))
        rows = _with_names(session, q)
    return _logged(crm, actor, rows)


def inbox_count(crm: Crm, actor: Actor, now: datetime | None = None) -> int:
    """The badge in the navigation: 0 for roles that decide nothing."""
    if not can(actor, Perm.APPROVAL_DECIDE) or actor.id is None:
        return 0
    now = now or utcnow()
    with crm.db.read() as session:
        who = place(session, actor)
        return session.scalar(select(func.count()).select_from(ApprovalRequest)
                              .where(_decidable_clause(session, who, now))) or 0


def _mine_clause(actor: Actor) -> ColumnElement[bool]:
    ref = actor_ref(actor)
    decided = (exists().where(ApprovalDecision.request_id == ApprovalRequest.id,
                              ApprovalDecision.decider_id == actor.id)
               if actor.id is not None else false())
    return or_(ApprovalRequest.maker_ref == ref, decided)


def history(crm: Crm, actor: Actor, *, before_id: int | None = None,
            limit: int = PAGE) -> list[RequestSummary]:
    """Closed requests the actor made or decided, newest first, keyset-paged by id."""
    q = (select(ApprovalRequest)
         .where(ApprovalRequest.status != "pending", _mine_clause(actor))
         .order_by(ApprovalRequest.id.desc()).limit(limit))  # type: ignore[union-attr]
    if before_id is not None:
        q = q.where(ApprovalRequest.id < before_id)
    with crm.db.read() as session:
        rows = _with_names(session, q)
    return _logged(crm, actor, rows)


def my_requests(crm: Crm, actor: Actor, *, before_id: int | None = None,
                limit: int = PAGE) -> list[RequestSummary]:
    """The maker's own requests, newest first: how she learns of approvals, rejections,
    expiry and stale refusals."""
    q = (select(ApprovalRequest).where(ApprovalRequest.maker_ref == actor_ref(actor))
         .order_by(ApprovalRequest.id.desc()).limit(limit))  # type: ignore[union-attr]
    if before_id is not None:
        q = q.where(ApprovalRequest.id < before_id)
    with crm.db.read() as session:
        rows = _with_names(session, q)
    return _logged(crm, actor, rows)


def _may_view(session: Session, req: ApprovalRequest, actor: Actor, who: Place | None) -> bool:
    if req.maker_ref == actor_ref(actor) or actor.role in OVERSIGHT_ROLES:
        return True
    if who is None:
        return False
    if who.id is not None and session.scalar(
        select(ApprovalDecision.id).where(ApprovalDecision.request_id == req.id,
                                          ApprovalDecision.decider_id == who.id)
    ):
        return True
    roles = {lv["role"] for lv in req.levels}
    return who.role in roles and any(in_scope(lv["scope"], who, req) for lv in req.levels)


def _field_label(crm: Crm, req: ApprovalRequest, key: str) -> Msg:
    """A changed field's label: the catalog's for a built-in field; a custom field's own
    labels (the reader's language picks one), retired ones included."""
    if req.kind == CHANGE_KIND:
        found = {f.key: f for f in custom_fields(crm, req.target_entity, include_retired=True)}
        f = found.get(key)
        if f is not None:
            return Msg("compliance.custom_field_label", {"zh": f.label_zh, "en": f.label_en})
    return label("field", key)


def get_request(crm: Crm, actor: Actor, request_id: int,
                now: datetime | None = None) -> RequestDetail:
    """One request with its diff, evidence and levels, if the actor may see it."""
    now = now or utcnow()
    with crm.db.read() as session:
        req = session.get(ApprovalRequest, request_id)
        if req is None:
            raise NotFound("compliance.error.request_not_found", id=request_id)
        who = place(session, actor) if actor.id is not None else None
        if not _may_view(session, req, actor, who):
            raise NotFound("compliance.error.request_not_found", id=request_id)
        name = session.scalar(select(Customer.name).where(Customer.id == req.customer_id))
        trade = trade_of(session, req, name)
        decisions = {d.level: d for d in session.scalars(
            select(ApprovalDecision).where(ApprovalDecision.request_id == req.id))}
        why = None
        if who is not None and can(actor, Perm.APPROVAL_DECIDE):
            why = why_not(session, req, who)
            if why is None and now >= req.expires_at:
                why = "compliance.error.expired"
        elif req.status != "pending":
            why = "compliance.error.closed"
        else:
            why = "compliance.error.wrong_role"
    levels = []
    for i, lv in enumerate(req.levels):
        d = decisions.get(i)
        if d is not None:
            levels.append(LevelView(i + 1, lv["role"], lv["scope"], d.decision, d.decider_name,
                                    d.decided_at, d.comment))
        elif req.status == "pending":
            levels.append(LevelView(i + 1, lv["role"], lv["scope"],
                                    "pending" if i == req.next_level else "waiting"))
        else:
            levels.append(LevelView(i + 1, lv["role"], lv["scope"], "skipped"))
    display = req.payload.get("display", {})
    changes = tuple(Change(_field_label(crm, req, f), str(b or ""), str(a or ""))
                    for f, b, a in display.get("changes", []))
    evidence = tuple((label("compliance.evidence", k),
                      (from_stored(v) or "") if isinstance(v, list) else str(v))
                     for k, v in display.get("evidence", {}).items())
    return RequestDetail(
        request=_summarise(req, name), changes=changes, evidence=evidence, levels=tuple(levels),
        can_decide=why is None, can_withdraw=req.status == "pending"
        and req.maker_ref == actor_ref(actor),
        why_not=Msg(why, {"id": req.id, "role": label("role", req.next_role)
                          if req.next_role else ""}) if why else None,
        diff=str(display.get("diff", "")), trade=trade,
        review=review_of(req.kind, display),
    )

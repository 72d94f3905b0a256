"""Retention: which (customer, data category) pairs have been kept long enough.

A category's period (policy `privacy.retention_years`) runs from the end of the relationship
— the account closed, or the last holding redeemed (the last trade, with nothing held) — or
from a completed deletion request, whichever is later: a deletion request cannot shorten the
anti-money-laundering duty. A customer who still holds something is never due. A pair already
in a pending or applied anonymisation batch is not due again.

`open_batch` gathers what is due into one batch and asks compliance to approve it through the
approval engine; `crm privacy retention --dry-run` lists the same without opening anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, exists, func, select
from sqlmodel import Session

from crm_tui.domain.kernel.actor import Actor, system_actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.permissions import Perm, can, require
from crm_tui.domain.policy.document import ApprovalLevelSpec
from crm_tui.domain.policy.privacy_policy import RETENTION_CATEGORIES
from crm_tui.store.models import Customer, Holding, Trade
from crm_tui.store.models_compliance import ApprovalRequest
from crm_tui.store.models_privacy import AnonymisationBatch, AnonymisationItem, PrivacyRequest

PAGE = 1000
KIND = "anonymisation_batch"
MAX_BATCH = 5000  # pairs per batch; the rest wait for the next batch


@dataclass(frozen=True)
class DueItem:
    customer_id: int
    category: str
    since: datetime
    due_at: datetime


def add_years(at: datetime, years: int) -> datetime:
    try:
        return at.replace(year=at.year + years)
    except ValueError:  # 29 February
        return at.replace(year=at.year + years, day=28)


def _candidates(session: Session, after: int) -> list[tuple[int, datetime | None,
                                                             datetime | None, datetime | None]]:
    last_trade = (select(func.max(Trade.occurred_at)).where(Trade.customer_id == Customer.id)
                  .correlate(Customer).scalar_subquery())
    deleted = (select(func.max(PrivacyRequest.closed_at))
               .where(PrivacyRequest.customer_id == Customer.id,
                      PrivacyRequest.kind == "deletion", PrivacyRequest.state == "completed")
               .correlate(Customer).scalar_subquery())
    holds = exists().where(Holding.customer_id == Customer.id, Holding.amount_fen > 0)
    closed = func.coalesce(Customer.churned_at,  # the KPI's end of relationship, when recorded
                           case((Customer.status == "closed", Customer.updated_at), else_=None))
    rows = session.execute(
        select(Customer.id, closed, last_trade, deleted)
        .where(Customer.id > after, ~holds, Customer.status != "anonymised")
        .order_by(Customer.id).limit(PAGE)).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def _taken(session: Session, ids: list[int]) -> set[tuple[int, str]]:
    rows = session.execute(
        select(AnonymisationItem.customer_id, AnonymisationItem.category)
        .join(AnonymisationBatch, AnonymisationBatch.id == AnonymisationItem.batch_id)
        .where(AnonymisationItem.customer_id.in_(ids),  # type: ignore[attr-defined]
               AnonymisationBatch.state.in_(("pending", "applied")))).all()  # type: ignore[attr-defined]
    return {(r[0], r[1]) for r in rows}


def iter_due(crm: Crm, now: datetime) -> Iterator[DueItem]:
    """Every due pair, in customer order, read page by page."""
    years = crm.policy().privacy.retention_years
    after = 0
    while True:
        with crm.db.read() as session:
            page = _candidates(session, after)
            if not page:
                return
            taken = _taken(session, [p[0] for p in page])
        for cid, closed, last_trade, deleted in page:
            ends = [d for d in (closed, last_trade) if d is not None]
            starts = [d for d in (max(ends) if ends else None, deleted) if d is not None]
            if not starts:
                continue
            since = max(starts)
            for category in RETENTION_CATEGORIES:
                due_at = add_years(since, years[category])
                if due_at <= now and (cid, category) not in taken:
                    yield DueItem(cid, category, since, due_at)
        after = page[-1][0]


def due_items(crm: Crm, actor: Actor, now: datetime, limit: int = MAX_BATCH) -> list[DueItem]:
    """What a batch opened now would hold (the dry run)."""
    if not (can(actor, Perm.PRIVACY_HANDLE) or can(actor, Perm.JOBS_RUN)):
        require(actor, Perm.PRIVACY_HANDLE)
    out = []
    for item in iter_due(crm, now):
        out.append(item)
        if len(out) >= limit:
            break
    return out


def sync_batches(crm: Crm, now: datetime) -> int:
    """A batch whose approval was rejected, withdrawn or expired is closed as rejected, so its
    pairs become due again for a later batch. Returns how many were closed."""
    with crm.db.write() as session:
        rows = session.execute(
            select(AnonymisationBatch, ApprovalRequest.status)
            .join(ApprovalRequest, ApprovalRequest.id == AnonymisationBatch.approval_id)
            .where(AnonymisationBatch.state == "pending",
                   ApprovalRequest.status.in_(("rejected", "withdrawn", "expired", "stale")))  # type: ignore[attr-defined]
        ).all()
        for batch, _status in rows:
            batch.state = "rejected"
            session.add(batch)
        return len(rows)


def pending_batch(session: Session) -> int | None:
    return session.scalar(select(AnonymisationBatch.id).where(
        AnonymisationBatch.state == "pending").limit(1))


def open_batch(crm: Crm, now: datetime, actor: Actor | None = None) -> tuple[int | None, int]:
    """Open one batch of what is due, with its approval request, unless one is pending.
    Returns (batch id or None, items)."""
    from crm_tui.domain.compliance import approvals
    from crm_tui.domain.kernel import audit

    actor = actor or system_actor("jobs")
    items = due_items(crm, actor, now)
    if not items:
        return None, 0
    with crm.db.write() as session:
        if pending_batch(session) is not None:
            return None, 0
        batch = AnonymisationBatch(state="pending", created_at=now, as_of=now, items=len(items))
        session.add(batch)
        session.flush()
        for it in items:
            session.add(AnonymisationItem(batch_id=batch.id or 0, customer_id=it.customer_id,
                                          category=it.category, since=it.since))
        customers = len({it.customer_id for it in items})
        lines = "\n".join(f"{it.customer_id}\t{it.category}\t{it.since.date().isoformat()}"
                          for it in items[:500])
        req = approvals.open_request(
            crm, session, actor, kind=KIND, target_entity="anonymisation_batch",
            target_id=batch.id, target_version=batch_version(len(items), "pending"),
            levels=[ApprovalLevelSpec(role="compliance", scope="any")],
            display={"summary": ["privacy.summary.anonymisation_batch",
                                 {"id": batch.id, "items": len(items), "customers": customers}],
                     "diff": lines, "changes": []},
            now=now)
        batch.approval_id = req.id
        session.add(batch)
        audit.record(crm.db, session, actor, "privacy.batch.open", "anonymisation_batch",
                     batch.id, None, {"items": len(items), "customers": customers,
                                      "approval_id": req.id})
        return batch.id, len(items)


def batch_version(items: int, state: str) -> str:
    return f"{state}:{items}"



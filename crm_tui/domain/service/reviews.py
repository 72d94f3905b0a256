"""Periodic reviews by tier: the policy's tiers (private banking and HNW quarterly with a
portfolio review, affluent half-yearly, mass yearly with a satisfaction call) become review
tasks for the owning RM, one per customer per period (the dedupe key), spread over what is
left of the period so no RM gets a whole book on one day. The task carries the tier's
script; completing it records an interaction on the customer."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlmodel import Session

from crm_tui.domain.customers.last_contact import note_contact
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import NotFound
from crm_tui.domain.kernel.validation import normalise_text
from crm_tui.domain.policy.service_policy import ReviewTier, ServicePolicy
from crm_tui.domain.service.escalation import JOB_ACTOR
from crm_tui.domain.workflow.tasks import complete_task
from crm_tui.store.models import Customer, CustomerTag, Interaction, Tag
from crm_tui.store.models_workflow import Task
from crm_tui.store.types import utcnow

BATCH = 1000


def tier_of(tiers: list[ReviewTier], aum_fen: int, tags: set[str]) -> ReviewTier:
    for tier in tiers:
        if aum_fen >= int(tier.min_aum * 100) or (tier.tag and tier.tag in tags):
            return tier
    return tiers[-1]


def period(today: date, months: int) -> tuple[str, date, date]:
    """(label, first day, last day) of the period of `months` that holds `today`."""
    index = (today.month - 1) // months
    start = date(today.year, index * months + 1, 1)
    end_month = start.month + months
    end = (date(today.year + 1, 1, 1) if end_month > 12 else date(today.year, end_month, 1)) \
        - timedelta(days=1)
    label = {3: f"{today.year}Q{index + 1}", 6: f"{today.year}H{index + 1}"}.get(
        months, str(today.year))
    return label, start, end


def _due(policy: ServicePolicy, customer_id: int, today: date, end: date) -> datetime:
    span = (end - today).days + 1
    day = today + timedelta(days=customer_id % max(span, 1))
    tz = ZoneInfo(policy.calendar.zone)
    return datetime.combine(day, policy.calendar.day_end, tz)


def generate_reviews(crm: Crm, now: datetime) -> int:
    """Review tasks for the period holding `now`, for every active customer with an RM."""
    policy = crm.policy().service
    today = now.astimezone(ZoneInfo(policy.calendar.zone)).date()
    created, last_id = 0, 0
    while True:
        with crm.db.write() as session:
            rows = session.execute(
                select(Customer.id, Customer.name, Customer.rm_id, Customer.aum_fen)
                .where(Customer.id > last_id, Customer.rm_id.is_not(None),  # type: ignore[union-attr]
                       Customer.status == "active")
                .order_by(Customer.id).limit(BATCH)).all()
            if not rows:
                return created
            last_id = rows[-1][0]
            created += _batch(crm, session, policy, today, rows)


def _batch(crm: Crm, session: Session, policy: ServicePolicy, today: date, rows: list) -> int:  # type: ignore[type-arg]
    ids = [r[0] for r in rows]
    tags: dict[int, set[str]] = {}
    for cid, name in session.execute(select(CustomerTag.customer_id, Tag.name)
                                     .join(Tag, Tag.id == CustomerTag.tag_id)
                                     .where(CustomerTag.customer_id.in_(ids))):  # type: ignore[attr-defined]
        tags.setdefault(cid, set()).add(name)
    wanted = {}
    for cid, name, rm_id, aum in rows:
        tier = tier_of(policy.review_tiers, aum, tags.get(cid, set()))
        label, _start, end = period(today, tier.cadence_months)
        wanted[f"review:{cid}:{label}"] = (cid, name, rm_id, tier, label, end)
    existing = set(session.scalars(select(Task.dedupe_key).where(
        Task.dedupe_key.in_(list(wanted)))))  # type: ignore[union-attr]
    now = utcnow()
    rows = [{"owner_id": rm_id, "kind": "review", "title_key": "service.task.review",
             "customer_id": cid, "entity": "customer", "entity_id": cid,
             "due_at": _due(policy, cid, today, end), "dedupe_key": key, "status": "open",
             "created_at": now,
             "params": {"tier": tier.tier, "tier_label_key": f"service.tier.{tier.tier}",
                        "review_kind": tier.kind, "script_key": f"service.script.{tier.kind}",
                        "period": label, "customer": name}}
            for key, (cid, name, rm_id, tier, label, end) in wanted.items() if key not in existing]
    if rows:
        # A bulk path (a whole book at each period start): Core executemany, one audit event
        # per batch naming the customers, as imports do.
        session.execute(insert(Task), rows)
        audit.record(crm.db, session, JOB_ACTOR, "review.generate", "task", "", None,
                     {"count": len(rows), "customers": [r["customer_id"] for r in rows],
                      "periods": sorted({r["params"]["period"] for r in rows})})
    return len(rows)


def complete_review(crm: Crm, actor: Actor, task_id: int, summary: str = "",
                    channel: str = "phone") -> None:
    """Mark a review done and log it as an interaction, in one transaction."""
    from crm_tui.domain.customers.interactions import CHANNELS
    from crm_tui.domain.kernel.errors import translate as t  # the logged subject is stored text

    text = normalise_text(summary or "")[:2000]
    with crm.db.write() as session:
        task = session.scalars(select(Task).where(Task.id == task_id, Task.kind == "review",
                                                  Task.status == "open",
                                                  Task.owner_id == actor.id)).first()
        if task is None or task.customer_id is None:
            raise NotFound("service.error.review_task", id=task_id)
        kind = str((task.params or {}).get("review_kind", "satisfaction_call"))
        task.status, task.done_at, task.done_by, task.note = "done", utcnow(), actor.id, text or None
        session.add(task)
        session.add(Interaction(customer_id=task.customer_id, staff_id=actor.id,
                                channel=channel if channel in CHANNELS else "phone",
                                occurred_at=utcnow(), summary=text,
                                subject=t("service.interaction.review",
                                          kind=t(f"service.review_kind.{kind}"))[:200]))
        note_contact(session, task.customer_id, utcnow())
        audit.record(crm.db, session, actor, "task.complete", "task", task_id, {"status": "open"},
                     {"status": "done", "note": text or None, "interaction": True})


def complete_my_task(crm: Crm, actor: Actor, task_id: int, note: str = "") -> None:
    """Done from My day: a review also records its interaction; anything else is a task."""
    with crm.db.read() as session:
        kind = session.scalar(select(Task.kind).where(Task.id == task_id))
    if kind == "review":
        complete_review(crm, actor, task_id, note)
    else:
        complete_task(crm, actor, task_id, note)


def count_due_today(crm: Crm, actor: Actor, now: datetime | None = None) -> int:
    """The actor's open tasks due by the end of today, overdue included (My day's badge)."""
    from sqlalchemy import func

    if actor.id is None:
        return 0
    policy = crm.policy().service
    tz = ZoneInfo(policy.calendar.zone)
    today = (now or utcnow()).astimezone(tz).date()
    until = datetime.combine(today + timedelta(days=1), datetime.min.time(), tz)
    with crm.db.read() as session:
        return session.scalar(select(func.count()).select_from(Task).where(
            Task.owner_id == actor.id, Task.status == "open",
            Task.due_at < until)) or 0  # type: ignore[operator]

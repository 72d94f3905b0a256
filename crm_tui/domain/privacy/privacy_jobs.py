"""The privacy area's periodic job (`crm jobs run`): the bulk-viewing alert over the access
log, closing batches whose approval fell through, and opening the next anonymisation batch
when retention periods have ended. Idempotent: a second run for the same `now` adds nothing."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import func, select

from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.privacy.retention import open_batch, sync_batches
from crm_tui.domain.workflow.notifications import notify
from crm_tui.store.models_compliance import RiskAlert
from crm_tui.store.models_privacy import AccessLog, PrivacyRequest

RULE = "bulk_viewing"


def bulk_viewing(crm: Crm, now: datetime) -> int:
    """A risk alert for each staff member who opened more distinct profiles today (in the
    bank's zone) than `privacy.access_alert_per_day`; one per person per day."""
    threshold = crm.policy().privacy.access_alert_per_day
    local = now.astimezone(crm.tz)
    day_start = datetime.combine(local.date(), time(), tzinfo=crm.tz)
    actor = system_actor("jobs")
    raised = 0
    with crm.db.write() as session:
        rows = session.execute(
            select(AccessLog.staff_name, func.count(func.distinct(AccessLog.customer_id)),
                   func.max(AccessLog.id))
            .where(AccessLog.action.in_(("profile", "restricted")),  # type: ignore[attr-defined]
                   AccessLog.at >= day_start, AccessLog.at <= now)
            .group_by(AccessLog.staff_name)
            .having(func.count(func.distinct(AccessLog.customer_id)) > threshold)).all()
        for staff, count, last_id in rows:
            key = f"{RULE}:{staff}:{local.date().isoformat()}"[:160]
            if session.scalar(select(RiskAlert.id).where(RiskAlert.alert_key == key)):
                continue
            last = session.get(AccessLog, last_id)
            details = {"staff": staff, "count": int(count), "threshold": threshold,
                       "day": local.date().isoformat()}
            alert = RiskAlert(alert_key=key, rule=RULE, kind=RULE, severity="high",
                              freeze=False, status="open",
                              customer_id=last.customer_id if last else 0,
                              details=details, raised_at=now)
            session.add(alert)
            session.flush()
            audit.record(crm.db, session, actor, "alert.raise", "risk_alert", alert.id, None,
                         {"rule": RULE, "severity": "high", "freeze": False, **details})
            raised += 1
    return raised


def overdue_reminders(crm: Crm, now: datetime) -> int:
    """Tell each owner once when a request passes its deadline unanswered."""
    sent = 0
    with crm.db.write() as session:
        rows = session.execute(select(PrivacyRequest.id, PrivacyRequest.owner_id,
                                      PrivacyRequest.kind)
                               .where(PrivacyRequest.state == "open",
                                      PrivacyRequest.due_at < now,
                                      PrivacyRequest.owner_id.is_not(None))  # type: ignore[union-attr]
                               .order_by(PrivacyRequest.id).limit(1000)).all()
        for rid, owner, _kind in rows:
            if notify(session, owner, "privacy_overdue", "privacy.notify.overdue",
                      {"id": rid}, entity="privacy_request",
                      entity_id=rid, dedupe_key=f"privacy_overdue:{rid}"):
                sent += 1
    return sent


def run_due(crm: Crm, now: datetime) -> dict[str, int]:
    alerts = bulk_viewing(crm, now)
    overdue = overdue_reminders(crm, now)
    sync_batches(crm, now)
    batch, items = open_batch(crm, now)
    return {"privacy_bulk_view_alerts": alerts, "privacy_overdue_notices": overdue,
            "anonymisation_batches": 1 if batch else 0, "anonymisation_items": items}

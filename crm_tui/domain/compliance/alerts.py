"""Risk alerts: the policy's rules over the core-banking feed, the freeze they impose, and
clearing by a risk officer.

A rule looks back over a window of stored feed events for one customer. While an alert of
a rule is open for a customer, the same rule raises nothing new for that customer, so a
burst gives one alert, not one per event. An open alert whose rule says `freeze` stops
transactions and sensitive changes for the customer (`ensure_not_frozen`) until someone
with the `risk` role clears it with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select
from sqlmodel import Session

from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import Blocked, DomainError, FieldError, NotFound, ValidationFailed
from crm_tui.domain.kernel.messages import Msg, label
from crm_tui.domain.kernel.permissions import Perm, can, require
from crm_tui.domain.kernel.validation import from_fen, normalise_text, to_fen
from crm_tui.domain.policy.document import AlertRule, Policy
from crm_tui.store.models import Customer, Staff
from crm_tui.store.models_compliance import CoreEvent, RiskAlert
from crm_tui.store.types import utcnow

PAGE = 100


class Frozen(Blocked):
    """A high-risk operation on a customer under an open freezing alert."""

    key = "compliance.error.frozen"


class AlertClosed(DomainError):
    key = "compliance.error.alert_closed"


# -- the freeze ------------------------------------------------------------------------

def freezing_alert(session: Session, customer_id: int) -> RiskAlert | None:
    return session.scalars(
        select(RiskAlert).where(RiskAlert.customer_id == customer_id, RiskAlert.status == "open",
                                RiskAlert.freeze.is_(True))  # type: ignore[attr-defined]
        .order_by(RiskAlert.id).limit(1)
    ).first()


def ensure_not_frozen(session: Session, customer_id: int, tz: Any = None) -> None:
    """Refuse, naming the alert, while the customer is frozen."""
    alert = freezing_alert(session, customer_id)
    if alert is not None:
        when = alert.raised_at.astimezone(tz) if tz else alert.raised_at
        raise Frozen(id=alert.id, rule=label("compliance.alert_kind", alert.kind),
                     raised=when.strftime("%Y-%m-%d %H:%M"))


# -- rules -------------------------------------------------------------------------------

def _open_alert_of(session: Session, rule: AlertRule, customer_id: int) -> bool:
    return session.scalar(
        select(RiskAlert.id).where(RiskAlert.customer_id == customer_id,
                                   RiskAlert.rule == rule.name, RiskAlert.status == "open")
        .limit(1)
    ) is not None


def _failed_logins(session: Session, rule: AlertRule, ev: CoreEvent) -> dict[str, Any] | None:
    if ev.kind != "login" or ev.success:
        return None
    since = ev.occurred_at - timedelta(minutes=rule.window_minutes)
    n = session.scalar(
        select(func.count()).select_from(CoreEvent).where(
            CoreEvent.customer_id == ev.customer_id, CoreEvent.kind == "login",
            CoreEvent.success.is_(False),  # type: ignore[attr-defined]
            CoreEvent.occurred_at >= since, CoreEvent.occurred_at <= ev.occurred_at)
    ) or 0
    if n >= rule.count:
        return {"count": n, "window_minutes": rule.window_minutes}
    return None


def _new_region(session: Session, rule: AlertRule, ev: CoreEvent) -> dict[str, Any] | None:
    if ev.kind != "login" or not ev.success or not ev.region:
        return None
    earlier = and_(CoreEvent.customer_id == ev.customer_id, CoreEvent.kind == "login",
                   CoreEvent.success.is_(True), CoreEvent.region != "",  # type: ignore[attr-defined]
                   CoreEvent.occurred_at < ev.occurred_at)
    known = session.scalars(select(CoreEvent.region).where(earlier).distinct()).all()
    if known and ev.region not in known:  # no history yet: this login sets the baseline
        return {"region": ev.region, "known": sorted(known)[:5]}
    return None


def _cross_border(session: Session, rule: AlertRule, ev: CoreEvent) -> dict[str, Any] | None:
    if ev.kind != "transaction" or ev.tx_kind != "cross_border":
        return None
    since = ev.occurred_at - timedelta(minutes=rule.window_minutes)
    n, total = session.execute(
        select(func.count(), func.coalesce(func.sum(CoreEvent.amount_fen), 0)).where(
            CoreEvent.customer_id == ev.customer_id, CoreEvent.kind == "transaction",
            CoreEvent.tx_kind == "cross_border", CoreEvent.occurred_at >= since,
            CoreEvent.occurred_at <= ev.occurred_at)
    ).one()
    if n >= rule.count and int(total) >= to_fen(rule.min_total):
        return {"count": n, "total": str(from_fen(int(total))),
                "window_days": _days(rule.window_minutes)}
    return None


def _days(minutes: float) -> int | float:
    """7, not 7.0: whole days as an integer, otherwise one decimal."""
    days = round(minutes / 1440, 1)
    return int(days) if float(days).is_integer() else days


_RULES = {"failed_logins": _failed_logins, "new_region": _new_region,
          "cross_border": _cross_border}


def evaluate_event(crm: Crm, session: Session, actor: Actor, policy: Policy,
                   ev: CoreEvent) -> list[RiskAlert]:
    """Run every rule on a just-stored event; raise (and audit) what fires."""
    raised = []
    for rule in policy.alert_rules:
        details = _RULES[rule.kind](session, rule, ev)
        if details is None or _open_alert_of(session, rule, ev.customer_id):
            continue
        alert = RiskAlert(
            alert_key=f"{rule.name}:{ev.customer_id}:{ev.event_key}"[:160], rule=rule.name,
            kind=rule.kind, severity=rule.severity, freeze=rule.freeze, status="open",
            customer_id=ev.customer_id, details={**details, "event": ev.event_key},
            raised_at=utcnow(),
        )
        session.add(alert)
        session.flush()
        audit.record(crm.db, session, actor, "alert.raise", "risk_alert", alert.id, None,
                     {"rule": rule.name, "severity": rule.severity, "freeze": rule.freeze,
                      "customer_id": ev.customer_id, **details})
        _notify_alert(session, alert)
        raised.append(alert)
    return raised


def _notify_alert(session: Session, alert: RiskAlert) -> None:
    """Risk officers and the customer's RM hear of a new alert in the notification centre."""
    from crm_tui.domain.workflow.notifications import notify
    from crm_tui.store.models import Customer, Staff

    rm = session.scalar(select(Customer.rm_id).where(Customer.id == alert.customer_id))
    risk = session.scalars(select(Staff.id).where(Staff.role == "risk", Staff.active)  # type: ignore[arg-type]
                           .order_by(Staff.id).limit(50)).all()
    for staff_id in {*risk, *([rm] if rm else [])}:
        notify(session, staff_id, "alert_raised", "notify.alert_raised",
               {"id": alert.id, "rule": alert.rule, "severity": f"@compliance.severity.{alert.severity}"},
               entity="risk_alert", entity_id=alert.id, dedupe_key=f"alert:{alert.id}:{staff_id}")


# -- reading and clearing ----------------------------------------------------------------

@dataclass(frozen=True)
class AlertView:
    id: int
    rule: str
    kind: str
    kind_label: Msg
    severity: str
    freeze: bool
    status: str
    customer_id: int
    customer_name: str  # "" for roles that see no customer data
    details: Msg
    raised_at: datetime
    cleared_by: str
    cleared_at: datetime | None
    clear_reason: str


def _details(kind: str, d: dict[str, Any]) -> Msg:
    """The stored details as a message: amounts as Decimal (the catalog formats them as
    money), whole days as integers (older rows stored 7.0)."""
    params: dict[str, Any] = {k: v for k, v in d.items() if not isinstance(v, list)}
    if "total" in params:
        params["total"] = Decimal(str(params["total"]))
    if isinstance(params.get("window_days"), float) and params["window_days"].is_integer():
        params["window_days"] = int(params["window_days"])
    return Msg(f"compliance.alert_details.{kind}", params)


def list_alerts(crm: Crm, actor: Actor, *, status: str | None = "open",
                before_id: int | None = None, limit: int = PAGE) -> list[AlertView]:
    """Alerts newest first (keyset by id); `status=None` lists every state."""
    require(actor, Perm.ALERT_VIEW)
    names = can(actor, Perm.CUSTOMER_VIEW)
    q = (select(RiskAlert, Customer.name, Staff.display_name)
         .join(Customer, Customer.id == RiskAlert.customer_id)
         .outerjoin(Staff, Staff.id == RiskAlert.cleared_by)
         .order_by(RiskAlert.id.desc()).limit(limit))  # type: ignore[union-attr]
    if status:
        q = q.where(RiskAlert.status == status)
    if before_id is not None:
        q = q.where(RiskAlert.id < before_id)
    with crm.db.read() as session:
        rows = session.execute(q).all()
    return [
        AlertView(a.id or 0, a.rule, a.kind, label("compliance.alert_kind", a.kind), a.severity,
                  a.freeze, a.status, a.customer_id, name if names else "",
                  _details(a.kind, a.details), a.raised_at, who or "", a.cleared_at,
                  a.clear_reason)
        for a, name, who in rows
    ]


def count_open(crm: Crm, actor: Actor) -> int:
    if not can(actor, Perm.ALERT_VIEW):
        return 0
    with crm.db.read() as session:
        return session.scalar(select(func.count()).select_from(RiskAlert)
                              .where(RiskAlert.status == "open")) or 0


def clear_alert(crm: Crm, actor: Actor, alert_id: int, reason: str,
                now: datetime | None = None) -> None:
    """A risk officer reviews an alert and clears it, saying why; the freeze lifts."""
    require(actor, Perm.ALERT_CLEAR)
    text = normalise_text(reason)
    if len(text) < 2:
        raise ValidationFailed([FieldError("reason", "compliance.validation.reason_required", {})])
    if len(text) > 1000:
        raise ValidationFailed([FieldError("reason", "validation.too_long", {"max": 1000})])
    now = now or utcnow()
    with crm.db.write() as session:
        alert = session.scalars(select(RiskAlert).where(RiskAlert.id == alert_id)
                                .with_for_update()).first()
        if alert is None:
            raise NotFound("compliance.error.alert_not_found", id=alert_id)
        if alert.status != "open":
            raise AlertClosed(id=alert_id)
        alert.status = "cleared"
        alert.cleared_by = actor.id
        alert.cleared_at = now
        alert.clear_reason = text
        session.add(alert)
        audit.record(crm.db, session, actor, "alert.clear", "risk_alert", alert_id,
                     {"status": "open"}, {"status": "cleared", "reason": text,
                                          "customer_id": alert.customer_id})

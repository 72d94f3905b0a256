"""The needs questionnaire (goals, horizon, liquidity, investable funds, existing
portfolio) and the risk questionnaire, scored to C1–C5. Every submission is stored as a new
version; a risk questionnaire also creates the RiskAssessment the suitability gate reads,
valid for the policy's days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from crm_tui.domain.customers.scope import load_in_scope
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import ValidationFailed
from crm_tui.domain.kernel.fields import clean
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.sales import fields as _fields  # noqa: F401  (registers the questionnaires)
from crm_tui.store.models import RiskAssessment
from crm_tui.store.models_sales import SalesQuestionnaire
from crm_tui.store.types import utcnow

# Total of six answers scored 1–5 (6..30) → level: the upper bound of each band.
LEVEL_BANDS = ((10, "C1"), (15, "C2"), (20, "C3"), (25, "C4"), (30, "C5"))


def level_for(score: int) -> str:
    for top, level in LEVEL_BANDS:
        if score <= top:
            return level
    return "C5"


@dataclass(frozen=True)
class Needs:
    version: int
    goals: tuple[str, ...]
    horizon: str
    liquidity: str
    investable_funds: Decimal
    existing_portfolio: str
    at: datetime


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in values.items()}


def _next_version(session: Session, kind: str, customer_id: int) -> int:
    top = session.scalar(select(func.max(SalesQuestionnaire.version)).where(
        SalesQuestionnaire.kind == kind, SalesQuestionnaire.customer_id == customer_id))
    return (top or 0) + 1


def submit_needs(crm: Crm, actor: Actor, customer_id: int, raw: dict[str, Any],
                 now: datetime | None = None) -> int:
    """Store the needs answers as the customer's next version; returns the version."""
    require(actor, Perm.CUSTOMER_EDIT)
    values, errors = clean("needs_questionnaire", raw)
    if errors:
        raise ValidationFailed(errors)
    now = now or utcnow()
    with crm.db.write() as session:
        load_in_scope(session, actor, customer_id)
        version = _next_version(session, "needs", customer_id)
        row = SalesQuestionnaire(kind="needs", customer_id=customer_id, version=version,
                                 answers=_jsonable(values), created_at=now, created_by=actor.id)
        session.add(row)
        session.flush()
        audit.record(crm.db, session, actor, "questionnaire.needs", "customer", customer_id,
                     None, {"version": version, **_jsonable(values)})
        return version


def submit_risk(crm: Crm, actor: Actor, customer_id: int, raw: dict[str, Any],
                now: datetime | None = None) -> str:
    """Score the risk answers, store them, and create the risk assessment; returns C1–C5."""
    require(actor, Perm.CUSTOMER_EDIT)
    values, errors = clean("risk_questionnaire", raw)
    if errors:
        raise ValidationFailed(errors)
    now = now or utcnow()
    score = sum(int(v) for v in values.values())
    level = level_for(score)
    days = crm.policy().risk_assessment.validity_days
    with crm.db.write() as session:
        load_in_scope(session, actor, customer_id)
        version = _next_version(session, "risk", customer_id)
        session.add(SalesQuestionnaire(kind="risk", customer_id=customer_id, version=version,
                                       answers=values, score=score, level=level,
                                       created_at=now, created_by=actor.id))
        ra = RiskAssessment(customer_id=customer_id, answers=values, score=score, level=level,
                            assessed_at=now,
                            valid_until=now.astimezone(crm.tz).date() + timedelta(days=days),
                            assessed_by=actor.id)
        session.add(ra)
        session.flush()
        audit.record(crm.db, session, actor, "questionnaire.risk", "customer", customer_id,
                     None, {"version": version, "score": score, "level": level,
                            "assessment_id": ra.id})
        return level


def latest_needs(session: Session, customer_id: int) -> Needs | None:
    row = session.scalars(select(SalesQuestionnaire).where(
        SalesQuestionnaire.kind == "needs", SalesQuestionnaire.customer_id == customer_id)
        .order_by(SalesQuestionnaire.version.desc()).limit(1)).first()  # type: ignore[attr-defined]
    if row is None:
        return None
    a = row.answers
    return Needs(row.version, tuple(a.get("goals") or ()), a.get("horizon", ""),
                 a.get("liquidity", ""), Decimal(str(a.get("investable_funds") or 0)),
                 a.get("existing_portfolio") or "", row.created_at)

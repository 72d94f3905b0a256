"""KYC completeness, driven by the policy: what each customer type must hold, and for how long."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import select
from sqlmodel import Session

from crm_tui.domain.customers.views import KycChecklist, KycItem
from crm_tui.domain.policy.document import Policy
from crm_tui.store.models import KycDocument, RiskAssessment


def document_expiry(policy: Policy, doc: KycDocument) -> date | None:
    if doc.expires_on:
        return doc.expires_on
    days = policy.kyc.validity_days.get(doc.kind)  # type: ignore[call-overload]
    if days and doc.verified_at:
        return doc.verified_at.date() + timedelta(days=days)
    return None


def risk_status(policy: Policy, valid_until: date | None, today: date) -> str:
    if valid_until is None:
        return "missing"
    if valid_until < today:
        return "expired"
    if valid_until <= today + timedelta(days=policy.risk_assessment.expiry_warning_days):
        return "expiring"
    return "valid"


def build_checklist(
    policy: Policy,
    customer_kind: str,
    documents: Iterable[KycDocument],
    assessment_valid_until: date | None,
    today: date,
) -> KycChecklist:
    """One line per required item; the best document of each kind decides its status."""
    rank = {"ok": 5, "expiring": 4, "pending": 3, "expired": 2, "rejected": 1, "missing": 0}
    best: dict[str, KycItem] = {}
    warn = timedelta(days=policy.risk_assessment.expiry_warning_days)
    for doc in documents:
        expiry = document_expiry(policy, doc)
        if doc.status == "verified":
            if expiry and expiry < today:
                status = "expired"
            elif expiry and expiry <= today + warn:
                status = "expiring"
            else:
                status = "ok"
        elif doc.status == "rejected":
            status = "rejected"
        else:
            status = "pending"
        item = KycItem(doc.kind, status, expiry)
        if doc.kind not in best or rank[status] > rank[best[doc.kind].status]:
            best[doc.kind] = item
    items = []
    for kind in policy.kyc.for_kind(customer_kind).required:
        if kind == "risk_questionnaire":
            st = risk_status(policy, assessment_valid_until, today)
            mapped = {"valid": "ok", "expiring": "expiring", "expired": "expired",
                      "missing": "missing"}[st]
            items.append(KycItem(kind, mapped, assessment_valid_until))
        else:
            items.append(best.get(kind, KycItem(kind, "missing")))
    return KycChecklist(tuple(items))


def checklist_for(session: Session, policy: Policy, customer_id: int, customer_kind: str,
                  today: date) -> KycChecklist:
    # Plain rows with the four columns the checklist reads: loading ORM objects cost more
    # than the query itself on the profile screen (bench/).
    docs = session.execute(
        select(KycDocument.kind, KycDocument.status, KycDocument.expires_on,
               KycDocument.verified_at).where(KycDocument.customer_id == customer_id)
    ).all()
    valid_until = session.scalars(
        select(RiskAssessment.valid_until).where(RiskAssessment.customer_id == customer_id)
        .order_by(RiskAssessment.assessed_at.desc()).limit(1)  # type: ignore[attr-defined]
    ).first()
    return build_checklist(policy, customer_kind, docs, valid_until, today)

"""Suitability (适当性): may this customer buy this product?

The order of the checks is the order a compliance officer asks them in: is the KYC file
complete? Is there a valid risk assessment? What does the policy matrix say for the
customer's level against the product's risk? The answer is allow, block (with the reason)
or approve (sellable only after the named role approves an override), with the evidence
the approver needs: the risk assessment snapshot and the product risk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlmodel import Session

from crm_tui.domain.customers.kyc import checklist_for
from crm_tui.domain.customers.scope import load_in_scope
from crm_tui.domain.customers.views import KycChecklist
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import NotFound
from crm_tui.domain.kernel.messages import Join, Msg, label
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.policy.document import Policy
from crm_tui.store.models import Customer, Product, RiskAssessment

Action = Literal["allow", "block", "approve"]


@dataclass(frozen=True)
class Evidence:
    """What the decision rested on, frozen at the time of the check."""

    assessment_id: int | None
    assessment_level: str | None
    assessed_on: date | None
    risk_level: str | None  # the customer's level used for the matrix
    valid_until: date | None
    product_code: str
    product_risk: str

    def as_dict(self) -> dict[str, Any]:
        return {"assessment_id": self.assessment_id or "-",
                "assessment_level": self.assessment_level or "-",
                "assessed_on": self.assessed_on.isoformat() if self.assessed_on else "-",
                "risk_level": self.risk_level or "-",
                "valid_until": self.valid_until.isoformat() if self.valid_until else "-",
                "product": self.product_code, "product_risk": self.product_risk}


@dataclass(frozen=True)
class SuitabilityResult:
    action: Action
    reason_key: str
    params: dict[str, Any] = field(default_factory=dict)
    approver_role: str | None = None
    evidence: Evidence | None = None

    @property
    def note(self) -> Msg:
        """The reason as a message (the screen or the CLI translates it)."""
        return Msg(self.reason_key, self.params)


def check_suitability(
    policy: Policy,
    *,
    kyc: KycChecklist,
    customer_level: str | None,
    valid_until: date | None,
    product_risk: str,
    today: date,
    evidence: Evidence | None = None,
) -> SuitabilityResult:
    """The rule itself, on plain values: the risk assessment, then the rest of the KYC
    file, then the matrix. The first failing check is the reason given."""
    if not customer_level or valid_until is None:
        return SuitabilityResult("block", "compliance.suitability.risk_missing", {},
                                 evidence=evidence)
    if valid_until < today:
        return SuitabilityResult("block", "compliance.suitability.risk_expired",
                                 {"date": valid_until.isoformat()}, evidence=evidence)
    if not kyc.complete:
        missing = Join(tuple(label("kyc", i.kind) for i in kyc.items
                             if i.status not in ("ok", "expiring")))
        return SuitabilityResult("block", "compliance.suitability.kyc_incomplete",
                                 {"missing": missing}, evidence=evidence)
    action, role = policy.suitability.cell(customer_level, product_risk)
    params = {"level": customer_level, "risk": product_risk}
    if action == "allow":
        return SuitabilityResult("allow", "compliance.suitability.allowed", params,
                                 evidence=evidence)
    if action == "block":
        return SuitabilityResult("block", "compliance.suitability.blocked", params,
                                 evidence=evidence)
    return SuitabilityResult("approve", "compliance.suitability.needs_approval",
                             {**params, "role": label("role", role or "")}, approver_role=role,
                             evidence=evidence)


def assess(crm: Crm, session: Session, customer: Customer, product: Product,
           today: date) -> SuitabilityResult:
    """Load what the rule needs for one customer and product, and apply it."""
    policy = crm.policy()
    kyc = checklist_for(session, policy, customer.id or 0, customer.kind, today)
    latest = session.scalars(
        select(RiskAssessment).where(RiskAssessment.customer_id == customer.id)
        .order_by(RiskAssessment.assessed_at.desc(), RiskAssessment.id.desc()).limit(1)  # type: ignore[attr-defined]
    ).first()
    level = customer.risk_level or (latest.level if latest else None)
    # The assessment on file decides validity (as the KYC checklist does); the level is the
    # customer's (changed only through maker-checker), else the assessment's.
    valid_until = latest.valid_until if latest else customer.risk_valid_until
    evidence = Evidence(
        assessment_id=latest.id if latest else None,
        assessment_level=latest.level if latest else None,
        assessed_on=latest.assessed_at.astimezone(crm.tz).date() if latest else None,
        risk_level=level, valid_until=valid_until, product_code=product.code,
        product_risk=product.risk_level,
    )
    return check_suitability(policy, kyc=kyc, customer_level=level, valid_until=valid_until,
                             product_risk=product.risk_level, today=today, evidence=evidence)


def suitability_for(crm: Crm, actor: Actor, customer_id: int, product_code: str,
                    today: date | None = None) -> SuitabilityResult:
    """A preview for the sale form: what would happen if this product were sold now."""
    require(actor, Perm.TRANSACTION_RECORD)
    today = today or datetime.now(crm.tz).date()
    with crm.db.read() as session:
        customer = load_in_scope(session, actor, customer_id)
        product = session.scalars(select(Product).where(Product.code == product_code)).first()
        if product is None:
            raise NotFound("compliance.error.product_not_found", code=product_code)
        return assess(crm, session, customer, product, today)

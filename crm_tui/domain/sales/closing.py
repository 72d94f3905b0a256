"""Closing a deal through the approval engine (the `contract_close` kind).

Moving an opportunity to closing renders the contract from its template and opens a
request whose levels are the policy's `contract_close_levels` (compliance), preceded by
the suitability override's role when the product needs one. On the last approval, in the
same transaction: the opportunity is won; each product line's subscription goes through
the existing transaction path (so the large-amount chain still applies per line: it
executes, or waits for its own approvals; and the deal's total, when it reaches a higher
tier than its biggest line, adds that tier's levels to the close request itself); the
holding and AUM follow; the service flow starts with an onboarding
task and the first periodic review for the customer's tier.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from crm_tui.domain.admin.auth import actor_of
from crm_tui.domain.compliance import approvals
from crm_tui.domain.compliance.alerts import ensure_not_frozen
from crm_tui.domain.customers.kyc import checklist_for
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import Blocked
from crm_tui.domain.kernel.messages import stored
from crm_tui.domain.kernel.validation import from_fen
from crm_tui.domain.policy.document import ApprovalLevelSpec
from crm_tui.domain.sales.documents import render_markdown
from crm_tui.domain.sales.lines import assessed, lines_of, total_chain
from crm_tui.domain.sales.opportunities import record_stage
from crm_tui.domain.sales.proposals import document_context
from crm_tui.domain.sales.transactions import record_transaction
from crm_tui.domain.workflow.notifications import notify
from crm_tui.domain.workflow.tasks import create_task
from crm_tui.store.models import Customer, Staff
from crm_tui.store.models_compliance import ApprovalRequest
from crm_tui.store.models_sales import Opportunity


def _version(session: Session, opp: Opportunity) -> str:
    """What the approver saw: the lines (products and amounts) and the customer; a change
    makes the request stale."""
    lines = ",".join(f"p{line.product.id}a{line.amount_fen}" for line in lines_of(session, opp))
    return f"{lines}|c{opp.customer_id}"


def open_close_request(crm: Crm, session: Session, actor: Actor, opp: Opportunity,
                       now: datetime) -> int:
    """The request's levels: each override role a line needs, then the policy's compliance
    levels, then the large-amount levels the deal's total needs beyond its biggest line."""
    customer = session.get(Customer, opp.customer_id)
    lines = lines_of(session, opp)
    assert customer is not None and lines  # refusal() checked both
    checked = assessed(crm, session, customer, lines, now.astimezone(crm.tz).date())
    policy = crm.policy().sales
    overrides: list[str] = []
    for _line, suit in checked:
        if suit.action == "approve" and suit.approver_role not in overrides:
            overrides.append(suit.approver_role)  # type: ignore[arg-type]
    currency = lines[0].product.currency
    levels = [*(ApprovalLevelSpec(role=r) for r in overrides),  # type: ignore[arg-type]
              *(ApprovalLevelSpec(role=lv.role, scope=lv.scope) for lv in policy.contract_close_levels),
              *total_chain(crm, lines, currency)]
    ctx = {**document_context(crm, session, opp, now), "number": f"HT{opp.id:08d}"}
    opp.contract_text = render_markdown(policy.contract_template, "contract", ctx)
    amount = f"{from_fen(opp.amount_fen):,.2f}"
    first = checked[0][1]
    display = {
        "summary": ["sales.summary.contract_close",
                    {"customer": customer.name,
                     "product": "+".join(line.product.code for line in lines),
                     "amount": amount, "currency": currency}],
        "changes": [],
        "evidence": {"amount": f"{amount} {currency}",
                     **{f"line {line.position}": f"{line.product.code} "
                        f"{from_fen(line.amount_fen):,.2f}" for line in lines},
                     "suitability": stored(first.note),
                     **(first.evidence.as_dict() if first.evidence else {})},
    }
    req = approvals.open_request(
        crm, session, actor, kind="contract_close", target_entity="opportunity",
        target_id=opp.id, target_version=_version(session, opp), levels=levels, display=display,
        customer_id=opp.customer_id, now=now,
        data={"opportunity_id": opp.id, "override": bool(overrides),
              "overrides": [line.position for line, suit in checked if suit.action == "approve"]})
    return req.id or 0


class _ContractClose:
    def current_version(self, crm: Crm, session: Session, req: ApprovalRequest) -> str:
        opp = session.get(Opportunity, req.payload["data"]["opportunity_id"])
        if opp is None or opp.stage != "closing" or opp.close_request_id != req.id:
            return "gone"
        return _version(session, opp)

    def check_applicable(self, crm: Crm, session: Session, req: ApprovalRequest,
                         now: datetime) -> None:
        """A freeze, a lapsed KYC file or a product no longer suitable stops approval."""
        ensure_not_frozen(session, req.customer_id or 0, crm.tz)
        opp = session.get(Opportunity, req.payload["data"]["opportunity_id"])
        customer = session.get(Customer, req.customer_id)
        lines = lines_of(session, opp) if opp else []
        if opp is None or customer is None or not lines:
            raise Blocked("compliance.error.target_gone", id=req.id)
        today = now.astimezone(crm.tz).date()
        if not checklist_for(session, crm.policy(), customer.id or 0, customer.kind, today).complete:
            raise Blocked("sales.move.kyc_incomplete", missing="KYC")
        for line, suit in assessed(crm, session, customer, lines, today):
            if suit.action == "block" or (suit.action == "approve"
                                          and line.position not in _overrides(req)):
                raise Blocked(suit.reason_key, **suit.params)

    def apply(self, crm: Crm, session: Session, req: ApprovalRequest, actor: Actor,
              now: datetime) -> str:
        opp = session.scalars(select(Opportunity).where(
            Opportunity.id == req.payload["data"]["opportunity_id"]).with_for_update()).one()
        maker_row = session.get(Staff, req.maker_id)
        assert maker_row is not None
        record_stage(session, opp, "won", actor, now)
        refs, statuses = [], []
        for line in lines_of(session, opp):  # each line through the transaction path
            outcome = record_transaction(
                crm, actor_of(maker_row), opp.customer_id, "subscription",
                from_fen(line.amount_fen), product_code=line.product.code, now=now,
                session=session, override_approved=line.position in _overrides(req))
            refs.append(f"trade:{outcome.trade_id}" if outcome.trade_id is not None
                        else f"request:{outcome.request_id}")
            statuses.append(outcome.status)
        ref = ",".join(refs)
        opp.result_ref = ref
        session.add(opp)
        _start_service(crm, session, actor, opp, now)
        status = statuses[0] if len(set(statuses)) == 1 else ",".join(statuses)
        notify(session, opp.owner_id, "deal_won", "sales.notify.won",
               {"id": opp.id, "status": status}, entity="opportunity", entity_id=opp.id)
        return f"opportunity:{opp.id}|{ref}"


def _overrides(req: ApprovalRequest) -> list[int]:
    """The lines whose override this request approves (a request opened before lines
    existed approved its one product's override under `override`)."""
    data = req.payload["data"]
    return list(data.get("overrides", [1] if data.get("override") else []))


def _start_service(crm: Crm, session: Session, actor: Actor, opp: Opportunity,
                   now: datetime) -> None:
    policy = crm.policy().sales
    aum = session.scalar(select(Customer.aum_fen).where(Customer.id == opp.customer_id)) or 0
    hnw = from_fen(aum) >= policy.hnw_min_aum
    review_days = policy.review_days_hnw if hnw else policy.review_days_mass
    create_task(crm.db, session, actor, owner_id=opp.owner_id, kind="onboarding",
                title_key="sales.task.onboarding", params={"id": opp.id},
                customer_id=opp.customer_id, entity="opportunity", entity_id=opp.id,
                due_at=now + timedelta(days=policy.onboarding_due_days),
                dedupe_key=f"onboarding:{opp.id}")
    create_task(crm.db, session, actor, owner_id=opp.owner_id, kind="review",
                title_key="sales.task.first_review",
                params={"id": opp.id, "tier": "hnw" if hnw else "mass"},
                customer_id=opp.customer_id, entity="opportunity", entity_id=opp.id,
                due_at=now + timedelta(days=review_days), dedupe_key=f"first-review:{opp.id}")


approvals.register("contract_close", _ContractClose())

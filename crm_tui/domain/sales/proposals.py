"""Proposals: the chosen products (lines) and amounts, fees and expected ranges, with each product's
risk disclosure, rendered as Markdown and HTML and saved with the opportunity (a new
version each time). The customer's feedback on each presentation is recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import Blocked, FieldError, NotFound, ValidationFailed
from crm_tui.domain.kernel.errors import translate as t  # the proposal document's words
from crm_tui.domain.kernel.messages import label
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.validation import from_fen, normalise_text
from crm_tui.domain.sales.documents import render_markdown, to_html
from crm_tui.domain.sales.lines import lines_of
from crm_tui.domain.sales.opportunities import load_opportunity
from crm_tui.domain.sales.questionnaires import latest_needs
from crm_tui.domain.sales.rebalancing_proposal import plan_items
from crm_tui.store.models import Branch, Customer, Product, Staff
from crm_tui.store.models_sales import Opportunity, OpportunityProposal
from crm_tui.store.types import utcnow

REACTIONS = ("positive", "neutral", "negative")


@dataclass(frozen=True)
class ProposalView:
    id: int
    version: int
    markdown: str
    html: str
    created_at: datetime
    reaction: str | None
    feedback: str | None


def _bp(bp: int | None) -> str:
    return "-" if bp is None else f"{bp / 100:.2f}%"


def product_item(product: Product, amount_fen: int) -> dict[str, Any]:
    low, high = product.expected_return_low_bp, product.expected_return_high_bp
    expected = "-" if low is None and high is None else f"{_bp(low)} ~ {_bp(high)}"
    term = (t("sales.doc.term_days", days=product.term_days) if product.term_days
            else t("sales.doc.open_ended"))
    return {"code": product.code, "name": product.name, "risk": product.risk_level,
            "amount": f"{from_fen(amount_fen):,.2f} {product.currency}",
            "fee": _bp(product.fee_rate_bp), "expected": expected, "term": term,
            "disclosure": product.disclosure or t("sales.doc.no_disclosure")}


def document_context(crm: Crm, session: Session, opp: Opportunity,
                     now: datetime) -> dict[str, Any]:
    customer = session.get(Customer, opp.customer_id)
    owner = session.get(Staff, opp.owner_id)
    branch = session.get(Branch, opp.branch_id) if opp.branch_id else None
    needs = latest_needs(session, opp.customer_id)
    return {
        "customer": customer.name if customer else "-",
        "owner": owner.display_name if owner else "-",
        "branch": branch.name if branch else "-",
        "date": now.astimezone(crm.tz).date().isoformat(),
        "goals": "、".join(t(f"sales.goal.{g}") for g in needs.goals) if needs else "-",
        "horizon": t(f"sales.horizon.{needs.horizon}") if needs else "-",
        "liquidity": t(f"sales.liquidity.{needs.liquidity}") if needs else "-",
        "funds": f"{needs.investable_funds:,.2f}" if needs else "-",
        "items": [product_item(line.product, line.amount_fen) for line in lines_of(session, opp)],
        "plan": plan_items(opp.custom),  # a rebalancing proposal's whole plan, sells too
    }


def make_proposal(crm: Crm, actor: Actor, opp_id: int, now: datetime | None = None) -> int:
    """Render and save the next proposal version (proposal stage); returns its id."""
    require(actor, Perm.CUSTOMER_EDIT)
    now = now or utcnow()
    with crm.db.write() as session:
        opp = load_opportunity(session, actor, opp_id, lock=True)
        if opp.stage != "proposal":
            raise Blocked("sales.error.proposal_stage", stage=label("sales.stage", opp.stage))
        version = (session.scalar(select(func.max(OpportunityProposal.version)).where(
            OpportunityProposal.opportunity_id == opp.id)) or 0) + 1
        ctx = {**document_context(crm, session, opp, now), "version": version}
        md = render_markdown(crm.policy().sales.proposal_template, "proposal", ctx)
        row = OpportunityProposal(opportunity_id=opp.id or 0, version=version, markdown=md,
                                  html=to_html(md), created_at=now, created_by=actor.id)
        session.add(row)
        session.flush()
        audit.record(crm.db, session, actor, "opportunity.proposal", "opportunity", opp.id,
                     None, {"proposal_id": row.id, "version": version})
        return row.id or 0


def record_feedback(crm: Crm, actor: Actor, proposal_id: int, reaction: str, feedback: str,
                    now: datetime | None = None) -> None:
    """The customer's reaction to one presentation of a proposal, in the history."""
    require(actor, Perm.CUSTOMER_EDIT)
    text = normalise_text(feedback)
    errors = []
    if reaction not in REACTIONS:
        errors.append(FieldError("reaction", "validation.choice", {"value": reaction}))
    if len(text) > 1000:
        errors.append(FieldError("feedback", "validation.too_long", {"max": 1000}))
    if errors:
        raise ValidationFailed(errors)
    now = now or utcnow()
    with crm.db.write() as session:
        row = session.get(OpportunityProposal, proposal_id)
        if row is None:
            raise NotFound("sales.error.proposal_not_found", id=proposal_id)
        load_opportunity(session, actor, row.opportunity_id)
        row.presented_at, row.reaction, row.feedback = now, reaction, text or None
        session.add(row)
        audit.record(crm.db, session, actor, "opportunity.feedback", "opportunity",
                     row.opportunity_id, None,
                     {"proposal_id": proposal_id, "reaction": reaction, "feedback": text})


def proposals_of(crm: Crm, actor: Actor, opp_id: int) -> list[ProposalView]:
    with crm.db.read() as session:
        load_opportunity(session, actor, opp_id)
        rows = session.scalars(select(OpportunityProposal).where(
            OpportunityProposal.opportunity_id == opp_id)
            .order_by(OpportunityProposal.version.desc()).limit(20))  # type: ignore[attr-defined]
        return [ProposalView(r.id or 0, r.version, r.markdown, r.html, r.created_at,
                             r.reaction, r.feedback) for r in rows]

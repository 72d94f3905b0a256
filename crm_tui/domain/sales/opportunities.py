"""Opportunities and their stages: a state machine, each transition checked and timestamped.

    needs ──▶ matching ──▶ proposal ──▶ closing ══(last compliance approval)══▶ won
      ▲  ◀──     ▲   ◀──       ▲   ◀── (request no longer pending)
      └─ every open stage ──▶ lost (with a reason from the policy)

- needs → matching: a completed needs questionnaire;
- matching → proposal: chosen products and amounts (lines), none the suitability gate blocks;
- proposal → closing: a saved proposal, complete KYC, suitable products (or ones needing an
  override, which the close request then asks for) — opens the `contract_close` request;
- closing → won happens only in the approval engine (see `closing`), never by a move.

Every change writes `opportunity_stage_event(opportunity_id, from_stage, to_stage, at,
actor)`, which the KPI area reads for conversion per stage and the close cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from crm_tui.domain.customers.kyc import checklist_for
from crm_tui.domain.customers.scope import load_in_scope
from crm_tui.domain.forms.values import as_json, stored_for_new
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import Blocked, FieldError, NotFound, ValidationFailed
from crm_tui.domain.kernel.fields import clean
from crm_tui.domain.kernel.messages import Join, Msg, label
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.validation import from_fen, to_fen
from crm_tui.domain.sales import fields as _fields  # noqa: F401
from crm_tui.domain.sales.lines import assessed, blocked_line, lines_of, write_lines
from crm_tui.domain.sales.questionnaires import latest_needs
from crm_tui.store.models import Customer, Product, Staff
from crm_tui.store.models_compliance import ApprovalRequest
from crm_tui.store.models_sales import Opportunity, OpportunityProposal, OpportunityStageEvent
from crm_tui.store.types import utcnow

STAGES = ("needs", "matching", "proposal", "closing", "won", "lost")
OPEN_STAGES = ("needs", "matching", "proposal", "closing")
ALLOWED: dict[str, tuple[str, ...]] = {
    "needs": ("matching", "lost"),
    "matching": ("needs", "proposal", "lost"),
    "proposal": ("matching", "closing", "lost"),
    "closing": ("proposal", "lost", "won"),
    "won": (),
    "lost": (),
}


@dataclass(frozen=True)
class Refusal:
    """Why a move is refused, as a message key and its parameters."""

    key: str
    params: dict[str, Any]

    @property
    def note(self) -> Msg:
        return Msg(self.key, self.params)


def record_stage(session: Session, opp: Opportunity, to_stage: str, actor: Actor,
                 now: datetime) -> None:
    """Move the row and write the stage event (the one place stages change)."""
    session.add(OpportunityStageEvent(opportunity_id=opp.id or 0, from_stage=opp.stage,
                                      to_stage=to_stage, at=now, actor=actor.username,
                                      actor_id=actor.id))
    opp.stage = to_stage
    opp.stage_entered_at = now
    if to_stage in ("won", "lost"):
        opp.closed_at = now
    opp.version += 1
    session.add(opp)


def _pending_close(session: Session, opp: Opportunity) -> bool:
    if opp.close_request_id is None:
        return False
    return session.scalar(select(ApprovalRequest.status).where(
        ApprovalRequest.id == opp.close_request_id)) == "pending"


def refusal(crm: Crm, session: Session, opp: Opportunity, to_stage: str,
            now: datetime) -> Refusal | None:
    """Why `opp` may not move to `to_stage` now, or None. Shared by moves and the board."""
    if to_stage not in STAGES:
        return Refusal("validation.choice", {"value": to_stage})
    if to_stage not in ALLOWED[opp.stage]:
        return Refusal("sales.move.not_allowed", {"from": label("sales.stage", opp.stage),
                                                   "to": label("sales.stage", to_stage)})
    if to_stage == "won":
        return Refusal("sales.move.won_by_approval", {})
    if opp.stage == "closing" and _pending_close(session, opp):
        return Refusal("sales.move.closing_pending", {"id": opp.close_request_id})
    if to_stage in ("lost", "needs") or STAGES.index(to_stage) < STAGES.index(opp.stage):
        return None
    if latest_needs(session, opp.customer_id) is None:
        return Refusal("sales.move.needs_missing", {})
    if to_stage == "matching":
        return None
    lines = lines_of(session, opp)
    if not lines or opp.amount_fen <= 0:
        return Refusal("sales.move.product_missing", {})
    customer = session.get(Customer, opp.customer_id)
    if customer is None:
        return Refusal("sales.error.opportunity_not_found", {"id": opp.id})
    today = now.astimezone(crm.tz).date()
    if to_stage == "closing":
        if session.scalar(select(OpportunityProposal.id).where(
                OpportunityProposal.opportunity_id == opp.id).limit(1)) is None:
            return Refusal("sales.move.proposal_missing", {})
        kyc = checklist_for(session, crm.policy(), customer.id or 0, customer.kind, today)
        if not kyc.complete:
            missing = Join(tuple(label("kyc", i.kind) for i in kyc.items
                                 if i.status not in ("ok", "expiring")))
            return Refusal("sales.move.kyc_incomplete", {"missing": missing})
    checked = assessed(crm, session, customer, lines, today)
    if len(checked) == 1 and checked[0][1].action == "block":  # one product: its reason as is
        return Refusal(checked[0][1].reason_key, checked[0][1].params)
    blocked = blocked_line(checked)
    return Refusal(*blocked) if blocked is not None else None


def load_opportunity(session: Session, actor: Actor, opp_id: int, *,
                     lock: bool = False) -> Opportunity:
    """The opportunity, if its customer is in the actor's book."""
    q = select(Opportunity).where(Opportunity.id == opp_id)
    if lock:
        q = q.with_for_update()
    opp = session.scalars(q).first()
    if opp is None:
        raise NotFound("sales.error.opportunity_not_found", id=opp_id)
    load_in_scope(session, actor, opp.customer_id)
    return opp


def move(crm: Crm, actor: Actor, opp_id: int, to_stage: str, *, reason: str | None = None,
         now: datetime | None = None) -> str:
    """Move along an allowed transition, or Blocked with why. Returns the new stage; moving
    to closing opens the compliance request (the stage is closing while it is pending)."""
    require(actor, Perm.CUSTOMER_EDIT)
    now = now or utcnow()
    with crm.db.write() as session:
        opp = load_opportunity(session, actor, opp_id, lock=True)
        why = refusal(crm, session, opp, to_stage, now)
        if why is not None:
            raise Blocked(why.key, **why.params)
        if to_stage == "lost":
            reasons = crm.policy().sales.lost_reasons
            if reason not in reasons:
                raise ValidationFailed([FieldError("lost_reason", "sales.move.lost_reason",
                                                   {"choices": ", ".join(reasons)})])
            opp.lost_reason = reason
        before = opp.stage
        if to_stage == "closing":
            from crm_tui.domain.sales.closing import open_close_request

            opp.close_request_id = open_close_request(crm, session, actor, opp, now)
        record_stage(session, opp, to_stage, actor, now)
        audit.record(crm.db, session, actor, "opportunity.move", "opportunity", opp.id,
                     {"stage": before}, {"stage": to_stage, "lost_reason": opp.lost_reason,
                                         "request": opp.close_request_id})
        return to_stage


def open_opportunity(crm: Crm, session: Session, actor: Actor, *, customer_id: int,
                     owner_id: int, amount_fen: int, lead_id: int | None,
                     now: datetime, custom: dict[str, Any] | None = None) -> Opportunity:
    """Insert a new opportunity at the needs stage with its first stage event and audit;
    `custom` is its stored custom values (`forms.values.stored_for_new`)."""
    owner = session.get(Staff, owner_id)
    opp = Opportunity(customer_id=customer_id, lead_id=lead_id, owner_id=owner_id,
                      team_id=owner.team_id if owner else None,
                      branch_id=owner.branch_id if owner else None, stage="needs",
                      amount_fen=amount_fen, created_at=now, stage_entered_at=now,
                      custom=custom or {})
    session.add(opp)
    session.flush()
    session.add(OpportunityStageEvent(opportunity_id=opp.id or 0, from_stage=None,
                                      to_stage="needs", at=now, actor=actor.username,
                                      actor_id=actor.id))
    after: dict[str, Any] = {"customer_id": customer_id, "owner_id": owner_id,
                             "lead_id": lead_id}
    if amount_fen:
        after["amount_fen"] = amount_fen
    if custom:
        after["custom"] = as_json(crm, "opportunity", custom)  # sensitive ones masked
    audit.record(crm.db, session, actor, "opportunity.create", "opportunity", opp.id, None,
                 after)
    return opp


def create_opportunity(crm: Crm, actor: Actor, customer_id: int,
                       now: datetime | None = None, *, amount: Decimal | str | None = None,
                       custom: dict[str, Any] | None = None) -> int:
    """A new opportunity for a customer of the actor's book, owned by the customer's RM,
    with an optional expected amount (the lines chosen later replace it) and its custom
    fields, validated like any form's (every problem at once)."""
    require(actor, Perm.CUSTOMER_EDIT)
    errors: list[FieldError] = []
    fen = 0
    if amount is not None and str(amount).strip():
        values, errors = clean("opportunity", {"amount": amount}, only=("amount",))
        if not errors:
            fen = to_fen(values["amount"])
    try:
        stored = stored_for_new(crm, "opportunity", custom)
    except ValidationFailed as exc:
        errors += exc.errors
    if errors:
        raise ValidationFailed(errors)
    now = now or utcnow()
    with crm.db.write() as session:
        c = load_in_scope(session, actor, customer_id)
        owner = c.rm_id or actor.id
        if owner is None:
            raise Blocked("sales.error.no_owner")
        return open_opportunity(crm, session, actor, customer_id=customer_id, owner_id=owner,
                                amount_fen=fen, lead_id=None, now=now, custom=stored).id or 0


def choose_product(crm: Crm, actor: Actor, opp_id: int, product_code: str,
                   amount: Decimal | str, now: datetime | None = None) -> None:
    """Pick the product and amount (matching or proposal stage): the product's minimum and
    step apply; suitability is checked when moving on."""
    require(actor, Perm.CUSTOMER_EDIT)
    values, errors = clean("opportunity", {"product_code": product_code, "amount": amount})
    if errors:
        raise ValidationFailed(errors)
    now = now or utcnow()
    with crm.db.write() as session:
        opp = load_opportunity(session, actor, opp_id, lock=True)
        if opp.stage not in ("matching", "proposal"):
            raise Blocked("sales.error.product_stage", stage=label("sales.stage", opp.stage))
        product = session.scalars(select(Product).where(Product.code == values["product_code"],
                                                        Product.active)).first()  # type: ignore[arg-type]
        if product is None:
            raise NotFound("compliance.error.product_not_found", code=values["product_code"])
        fen = to_fen(values["amount"])
        if fen < product.min_amount_fen:
            raise ValidationFailed([FieldError("amount", "sales.validation.below_minimum",
                                               {"min": f"{from_fen(product.min_amount_fen):,.2f}"})])
        step = product.step_amount_fen
        if step > 0 and (fen - product.min_amount_fen) % step:
            raise ValidationFailed([FieldError("amount", "sales.validation.step",
                                               {"step": f"{from_fen(step):,.2f}"})])
        before = {"product_id": opp.product_id, "amount_fen": opp.amount_fen}
        write_lines(session, opp, [(product, fen)])  # one product: the proposal's one line
        audit.record(crm.db, session, actor, "opportunity.product", "opportunity", opp.id,
                     before, {"product_id": product.id, "amount_fen": fen})

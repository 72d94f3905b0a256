"""A rebalancing suggestion turned into a proposal: an opportunity whose product lines are
the suggestion's purchases, taken through the pipeline's own steps (opened at needs, moved
to matching and on to proposal, lines checked by `lines.checked_lines`) in one transaction,
so suitability, minimum and step are checked again against the data as it is now.

A proposal sells nothing: the suggested redemptions are not lines, but the whole plan
(sells and buys) is kept on the opportunity (`custom["_plan"]`, with `custom["_source"] =
"rebalancing"`; custom-field keys start with a letter, so these never collide with a
form's field) and in the audit event, so the RM sees what the purchases are paid from.
A customer has at most one open rebalancing opportunity at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from crm_tui.domain.customers.scope import load_in_scope
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import Blocked
from crm_tui.domain.kernel.errors import translate as t  # the proposal document's words
from crm_tui.domain.kernel.messages import Msg
from crm_tui.domain.kernel.permissions import Perm, can, require
from crm_tui.domain.kernel.validation import from_fen
from crm_tui.domain.products.portfolio import Move, Rebalancing, suggest_rebalancing
from crm_tui.domain.sales.lines import checked_lines, write_lines
from crm_tui.domain.sales.opportunities import OPEN_STAGES, open_opportunity, record_stage, refusal
from crm_tui.store.models import Customer
from crm_tui.store.models_sales import Opportunity
from crm_tui.store.types import utcnow

SOURCE = "rebalancing"


@dataclass(frozen=True)
class RebalancingProposal:
    opportunity_id: int
    stage: str
    buys: int
    sells: int
    total: Decimal  # the lines' total, CNY


def may_propose(actor: Actor, plan: Rebalancing | None) -> bool:
    """Whether the profile offers the key: a purchase to propose and a role that sells."""
    return (plan is not None and any(m.action == "buy" for m in plan.moves)
            and can(actor, Perm.CUSTOMER_EDIT))


def _plan_entry(m: Move) -> dict[str, str | int]:
    return {"rank": m.rank, "action": m.action, "code": m.product_code,
            "name": m.product_name, "amount": f"{m.amount:.2f}", "currency": m.currency}


def plan_items(custom: dict[str, Any] | None) -> list[dict[str, str]]:
    """The whole plan of a rebalancing opportunity (sells too), as the proposal lists it;
    [] for any other opportunity."""
    custom = custom or {}
    if custom.get("_source") != SOURCE:
        return []
    return [{"action": t(f"rebalance.doc.{e['action']}"), "product": f"{e['name']} ({e['code']})",
             "amount": f"{Decimal(e['amount']):,.2f} {e['currency']}"}
            for e in custom.get("_plan", [])]


def open_rebalancing(session: Session, customer_id: int) -> int | None:
    """The customer's open rebalancing opportunity, if any (a customer has few open ones)."""
    rows = session.execute(select(Opportunity.id, Opportunity.custom).where(
        Opportunity.customer_id == customer_id,
        Opportunity.stage.in_(OPEN_STAGES))).all()  # type: ignore[attr-defined]
    return next((oid for oid, custom in rows if (custom or {}).get("_source") == SOURCE), None)


def _advance(crm: Crm, session: Session, actor: Actor, opp: Opportunity, to_stage: str,
             now: datetime) -> None:
    why = refusal(crm, session, opp, to_stage, now)
    if why is not None:
        raise Blocked(why.key, **why.params)
    record_stage(session, opp, to_stage, actor, now)


def propose_rebalancing(crm: Crm, actor: Actor, customer_id: int, *,
                        now: datetime | None = None, today: date | None = None
                        ) -> RebalancingProposal:
    """Open an opportunity at the proposal stage whose lines are the suggested purchases,
    or refuse (Blocked) with why: nothing to rebalance, no purchase can be suggested, a
    line no longer passes, the needs questionnaire is missing, or one is already open."""
    require(actor, Perm.CUSTOMER_EDIT)
    now = now or utcnow()
    today = today or now.astimezone(crm.tz).date()
    plan = suggest_rebalancing(crm, actor, customer_id, today=today)
    buys = [m for m in plan.moves if m.action == "buy"]
    sells = [m for m in plan.moves if m.action == "sell"]
    if not buys:
        if plan.blocked_key:  # no model, nothing held, or suitability blocks every purchase
            raise Blocked("rebalance.error.blocked",
                          reason=Msg(plan.blocked_key, plan.blocked_params))
        if not plan.moves:
            raise Blocked("rebalance.error.in_band")
        raise Blocked("rebalance.error.no_buys", sells=len(sells))
    with crm.db.write() as session:
        c = load_in_scope(session, actor, customer_id)
        session.execute(select(Customer.id).where(Customer.id == c.id).with_for_update())
        existing = open_rebalancing(session, customer_id)
        if existing is not None:
            raise Blocked("rebalance.error.already_open", id=existing)
        owner = c.rm_id or actor.id
        if owner is None:
            raise Blocked("sales.error.no_owner")
        opp = open_opportunity(crm, session, actor, customer_id=customer_id, owner_id=owner,
                               amount_fen=0, lead_id=None, now=now)
        _advance(crm, session, actor, opp, "matching", now)
        chosen = checked_lines(crm, session, opp, [(m.product_code, m.amount) for m in buys],
                               now)
        write_lines(session, opp, chosen)
        opp.custom = {**(opp.custom or {}), "_source": SOURCE,
                      "_plan": [_plan_entry(m) for m in plan.moves]}
        _advance(crm, session, actor, opp, "proposal", now)
        audit.record(crm.db, session, actor, "opportunity.rebalancing", "opportunity", opp.id,
                     None, {"source": SOURCE, "customer_id": customer_id,
                            "lines": [{"product_id": p.id, "amount_fen": fen}
                                      for p, fen in chosen],
                            "plan": [_plan_entry(m) for m in plan.moves]})
        return RebalancingProposal(opp.id or 0, opp.stage, len(chosen), len(sells),
                                   from_fen(opp.amount_fen))

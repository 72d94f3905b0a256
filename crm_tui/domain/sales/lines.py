"""An opportunity's product lines: the proposal's products, each with its amount, checked
against suitability one by one. The opportunity keeps their total as its amount and the
first line's product as its product (what the board, the lists and the KPIs read).

Large amounts: a bank looks at the deal, not at how it was split. Each line's
subscription still goes through the transaction path with its own large-amount chain;
and when the deal's total reaches a higher tier of the policy's chain than any single
line does, the close request carries that tier's levels too, so splitting a deal into
lines never takes it under a threshold (see `total_chain`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session

from crm_tui.domain.compliance.suitability import SuitabilityResult, assess
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import Blocked, FieldError, NotFound, ValidationFailed
from crm_tui.domain.kernel.messages import Msg, label
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.validation import BadValue, from_fen, normalise_code, parse_amount, to_fen
from crm_tui.domain.policy.document import ApprovalLevelSpec
from crm_tui.store.models import Customer, Product
from crm_tui.store.models_sales import Opportunity, OpportunityLine
from crm_tui.store.types import utcnow

MAX_LINES = 10


@dataclass(frozen=True)
class Line:
    position: int
    product: Product
    amount_fen: int


def lines_of(session: Session, opp: Opportunity) -> list[Line]:
    """The lines in order; an opportunity written before lines existed has its one product."""
    rows = session.execute(
        select(OpportunityLine, Product).join(Product, Product.id == OpportunityLine.product_id)
        .where(OpportunityLine.opportunity_id == opp.id).order_by(OpportunityLine.position)).all()
    if rows:
        return [Line(line.position, product, line.amount_fen) for line, product in rows]
    product = session.get(Product, opp.product_id) if opp.product_id else None
    return [Line(1, product, opp.amount_fen)] if product is not None else []


def write_lines(session: Session, opp: Opportunity, lines: list[tuple[Product, int]]) -> None:
    """Replace the lines; the opportunity's product and amount follow (first, total)."""
    session.execute(delete(OpportunityLine).where(OpportunityLine.opportunity_id == opp.id))  # type: ignore[arg-type]
    for i, (product, fen) in enumerate(lines, start=1):
        session.add(OpportunityLine(opportunity_id=opp.id or 0, position=i,
                                    product_id=product.id or 0, amount_fen=fen))
    opp.product_id = lines[0][0].id if lines else None
    opp.amount_fen = sum(fen for _, fen in lines)
    opp.version += 1
    session.add(opp)


def assessed(crm: Crm, session: Session, customer: Customer, lines: list[Line],
             today: date) -> list[tuple[Line, SuitabilityResult]]:
    return [(line, assess(crm, session, customer, line.product, today)) for line in lines]


def blocked_line(checked: list[tuple[Line, SuitabilityResult]]) -> tuple[str, dict[str, Any]] | None:
    """The first line suitability blocks, as a refusal naming the line and the reason."""
    for line, suit in checked:
        if suit.action == "block":
            return "sales.lines.blocked", {"line": line.position, "code": line.product.code,
                                           "reason": Msg(suit.reason_key, suit.params)}
    return None


def total_chain(crm: Crm, lines: list[Line], currency: str) -> list[ApprovalLevelSpec]:
    """The large-amount levels the deal's total needs beyond what its biggest line gets
    on its own ([] for one line, or when the total reaches no higher tier)."""
    if len(lines) < 2:
        return []
    chains = crm.policy().approvals
    total = chains.chain_for(from_fen(sum(line.amount_fen for line in lines)), currency) or []
    longest = max(len(chains.chain_for(from_fen(line.amount_fen), currency) or [])
                  for line in lines)
    return list(total) if len(total) > longest else []


def _check_amount(product: Product, fen: int, n: int) -> FieldError | None:
    if fen < product.min_amount_fen:
        return FieldError("amount", "sales.lines.below_minimum",
                          {"line": n, "min": f"{from_fen(product.min_amount_fen):,.2f}"})
    step = product.step_amount_fen
    if step > 0 and (fen - product.min_amount_fen) % step:
        return FieldError("amount", "sales.lines.step", {"line": n, "step": f"{from_fen(step):,.2f}"})
    return None


def checked_lines(crm: Crm, session: Session, opp: Opportunity,
                  items: list[tuple[str, Decimal | str]], now: datetime
                  ) -> list[tuple[Product, int]]:
    """The lines `items` name, each checked (product, minimum, step, suitability) for
    `opp`'s customer; ValidationFailed or Blocked (naming the line) unless all pass.
    The one check behind `set_lines` and every other way lines are chosen."""
    if not items or len(items) > MAX_LINES:
        raise ValidationFailed([FieldError("lines", "sales.lines.count", {"max": MAX_LINES})])
    errors: list[FieldError] = []
    chosen: list[tuple[Product, int]] = []
    for n, (code, amount) in enumerate(items, start=1):
        product = session.scalars(select(Product).where(
            Product.code == normalise_code(code).upper(), Product.active)).first()  # type: ignore[arg-type]
        try:
            fen = to_fen(parse_amount(amount, allow_zero=False))  # type: ignore[arg-type]
        except BadValue as exc:
            errors.append(FieldError("amount", exc.key, exc.params))
            continue
        if product is None:
            raise NotFound("compliance.error.product_not_found", code=code)
        bad = _check_amount(product, fen, n)
        if bad is not None:
            errors.append(bad)
        chosen.append((product, fen))
    if errors:
        raise ValidationFailed(errors)
    customer = session.get(Customer, opp.customer_id)
    assert customer is not None
    lines = [Line(i, p, fen) for i, (p, fen) in enumerate(chosen, start=1)]
    refused = blocked_line(assessed(crm, session, customer, lines, now.astimezone(crm.tz).date()))
    if refused is not None:
        raise Blocked(refused[0], **refused[1])
    return chosen


def set_lines(crm: Crm, actor: Actor, opp_id: int, items: list[tuple[str, Decimal | str]],
              now: datetime | None = None, *, append: bool = False) -> None:
    """Set the proposal's products and amounts (matching or proposal stage), or with
    `append` add them after the lines already chosen. Every line is checked (product,
    minimum, step, suitability); a line suitability blocks is refused with its reason,
    and nothing is saved unless every line passes."""
    from crm_tui.domain.sales.opportunities import load_opportunity

    require(actor, Perm.CUSTOMER_EDIT)
    now = now or utcnow()
    with crm.db.write() as session:
        opp = load_opportunity(session, actor, opp_id, lock=True)
        if opp.stage not in ("matching", "proposal"):
            raise Blocked("sales.error.product_stage", stage=label("sales.stage", opp.stage))
        if append:
            items = [(line.product.code, from_fen(line.amount_fen))
                     for line in lines_of(session, opp)] + list(items)
        chosen = checked_lines(crm, session, opp, items, now)
        before = [{"product_id": line.product.id, "amount_fen": line.amount_fen}
                  for line in lines_of(session, opp)]
        write_lines(session, opp, chosen)
        audit.record(crm.db, session, actor, "opportunity.lines", "opportunity", opp.id,
                     {"lines": before},
                     {"lines": [{"product_id": p.id, "amount_fen": fen} for p, fen in chosen]})

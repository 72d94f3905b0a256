"""Every rule a transaction must pass, run once for the form's preview and once for submit.

`check_trade` collects *all* refusals (amount, product, freeze, suitability, holding,
chain) instead of stopping at the first, so the preview can show the RM everything that
submit would refuse; `record_transaction` raises the first one. One function, so the
preview cannot drift from what submit enforces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlmodel import Session

from crm_tui.domain.compliance.alerts import ensure_not_frozen
from crm_tui.domain.compliance.suitability import SuitabilityResult, assess
from crm_tui.domain.customers.scope import load_in_scope
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import (
    Blocked,
    DomainError,
    FieldError,
    NotFound,
    ValidationFailed,
)
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.validation import BadValue, from_fen, normalise_code, parse_amount
from crm_tui.domain.policy.document import ApprovalLevelSpec
from crm_tui.store.models import TRADE_KINDS as TX_KINDS
from crm_tui.store.models import Customer, Holding, Product

PRODUCT_KINDS = ("subscription", "redemption")


def _bad(field_key: str, key: str, **params: object) -> ValidationFailed:
    return ValidationFailed([FieldError(field_key, key, dict(params))])


@dataclass
class TradeChecks:
    """What the rules say about one intended trade."""

    amount: Decimal | None = None
    currency: str = "CNY"
    product: Product | None = None
    suitability: SuitabilityResult | None = None
    override: list[ApprovalLevelSpec] = field(default_factory=list)
    chain: list[ApprovalLevelSpec] | None = None
    refusals: list[DomainError] = field(default_factory=list)


def parse_trade_amount(crm: Crm, amount: object) -> Decimal:
    """Required, not zero, within the column and the policy's single-transaction limit."""
    try:
        value = parse_amount(amount, allow_zero=False)  # type: ignore[arg-type]
    except BadValue as exc:
        raise _bad("tx_amount", exc.key, **exc.params) from exc
    limit = crm.policy().approvals.max_transaction_amount
    if value > limit:
        raise _bad("tx_amount", "validation.amount_policy_max", max=f"{limit:,.2f}")
    return value


def check_trade(crm: Crm, session: Session, customer: Customer, kind: str, amount: object,
                product_code: str | None, currency: str | None, now: datetime,
                *, require_product: bool = True) -> TradeChecks:
    out = TradeChecks()
    if kind not in TX_KINDS:
        out.refusals.append(_bad("tx_kind", "validation.choice", value=kind))
        return out
    try:
        out.amount = parse_trade_amount(crm, amount)
    except ValidationFailed as exc:
        out.refusals.append(exc)
    if kind in PRODUCT_KINDS:
        code = normalise_code(product_code)
        if not code:
            if require_product:
                out.refusals.append(_bad("tx_product", "validation.required"))
        else:
            out.product = session.scalars(select(Product).where(Product.code == code)).first()
            if out.product is None or not out.product.active:
                out.product = None
                out.refusals.append(NotFound("compliance.error.product_not_found", code=code))
    cur = (currency or (out.product.currency if out.product else "CNY")).upper()
    out.currency = cur
    if out.product is not None and cur != out.product.currency:
        out.refusals.append(_bad("tx_currency", "compliance.validation.currency_mismatch",
                                 currency=cur, product=out.product.currency))
    try:
        ensure_not_frozen(session, customer.id or 0, crm.tz)
    except DomainError as exc:
        out.refusals.append(exc)
    if kind == "subscription" and out.product is not None:
        suit = assess(crm, session, customer, out.product, now.astimezone(crm.tz).date())
        out.suitability = suit
        if suit.action == "block":
            out.refusals.append(Blocked(suit.reason_key, **suit.params))
        if suit.action == "approve":
            out.override = [ApprovalLevelSpec(role=suit.approver_role)]  # type: ignore[arg-type]
    if kind == "redemption" and out.amount is not None:
        held = session.scalar(select(Holding.amount_fen).where(
            Holding.customer_id == customer.id,
            Holding.product_id == (out.product.id if out.product else None))) or 0
        if held < int(out.amount * 100):
            out.refusals.append(Blocked("compliance.tx.insufficient",
                                        held=f"{from_fen(held):,.2f}"))
    if out.amount is not None:
        out.chain = crm.policy().approvals.chain_for(out.amount, cur)
        if out.chain is None:
            out.refusals.append(_bad("tx_currency", "compliance.validation.no_chain",
                                     currency=cur))
    return out


@dataclass(frozen=True)
class TradePreview:
    """For the form: every refusal in words, the suitability answer, who must approve."""

    refusals: tuple[str, ...]
    suitability: SuitabilityResult | None
    levels: tuple[str, ...]


def preview_transaction(crm: Crm, actor: Actor, customer_id: int, kind: str, amount: object,
                        *, product_code: str | None = None, currency: str | None = None,
                        now: datetime | None = None) -> TradePreview:
    """What submit would say, without recording anything. A blank amount is not a
    refusal yet (the RM has not typed it), nor is a product not yet picked; every other
    rule is checked."""
    from crm_tui.store.types import utcnow

    require(actor, Perm.TRANSACTION_RECORD)
    with crm.db.read() as session:
        c = load_in_scope(session, actor, customer_id)
        blank = amount is None or (isinstance(amount, str) and not amount.strip())
        checks = check_trade(crm, session, c, kind, "1" if blank else amount, product_code,
                             currency, now or utcnow(), require_product=False)
    levels = [] if blank else [*checks.override, *(checks.chain or [])]
    return TradePreview(tuple(e.message for e in checks.refusals), checks.suitability,
                        tuple(lv.role for lv in levels))


def held_products(crm: Crm, actor: Actor, customer_id: int) -> list[tuple[str, str, str, str]]:
    """(code, name, risk, currency) of the products the customer holds — what a redemption
    can pick."""
    require(actor, Perm.TRANSACTION_RECORD)
    with crm.db.read() as session:
        load_in_scope(session, actor, customer_id)
        rows = session.execute(
            select(Product.code, Product.name, Product.risk_level, Product.currency)
            .join(Holding, Holding.product_id == Product.id)
            .where(Holding.customer_id == customer_id, Holding.amount_fen > 0)
            .order_by(Product.code).limit(500)).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]

"""Recording a transaction: subscription, redemption, transfer or cross-border transfer.

A sale first passes suitability (KYC, risk assessment, the matrix). Then the policy's chain
for the amount decides how many levels must approve. With nothing to approve the trade
executes at once; otherwise a request is opened and the trade — the Trade row and the
holding/AUM update — happens only in the transaction that approves the last level. A
rejection at any level ends it. A frozen customer can do none of this.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from crm_tui.domain.compliance import approvals
from crm_tui.domain.compliance.alerts import ensure_not_frozen
from crm_tui.domain.compliance.suitability import SuitabilityResult, assess
from crm_tui.domain.customers.scope import load_in_scope
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import Blocked, FieldError, NotFound, ValidationFailed
from crm_tui.domain.kernel.messages import Join, Msg, label, stored
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.validation import BadValue, from_fen, normalise_text, parse_amount, to_fen
from crm_tui.domain.policy.document import ApprovalLevelSpec
from crm_tui.store.models import TRADE_KINDS, Customer, Holding, Product, Trade
from crm_tui.store.models_compliance import ApprovalRequest
from crm_tui.store.types import utcnow

TX_KINDS = TRADE_KINDS
PRODUCT_KINDS = ("subscription", "redemption")
"""Kinds that name a product."""
SUITABILITY_KINDS = ("subscription",)
"""Kinds gated by the suitability check (a redemption or transfer sells nothing)."""


@dataclass(frozen=True)
class TransactionOutcome:
    status: str  # executed | pending_approval
    kind: str
    amount: Decimal
    currency: str
    trade_id: int | None = None
    request_id: int | None = None
    levels: tuple[str, ...] = ()  # the roles that must approve, in order
    suitability: SuitabilityResult | None = None

    @property
    def note(self) -> Msg:
        """What happened, as a message: executed, or pending with the approval chain."""
        if self.status == "executed":
            return Msg("compliance.tx.executed", {"id": self.trade_id})
        chain = Join(tuple(label("role", r) for r in self.levels), " → ")
        return Msg("compliance.tx.pending", {"id": self.request_id, "chain": chain})


def _bad(field: str, key: str, **params: Any) -> ValidationFailed:
    return ValidationFailed([FieldError(field, key, params)])


def _version(session: Session, customer_id: int, kind: str, product_id: int | None) -> str:
    """The target version: the customer's row version, plus the holding for a redemption."""
    version = session.scalar(select(Customer.version).where(Customer.id == customer_id))
    if kind == "redemption":
        held = session.scalar(select(Holding.amount_fen).where(
            Holding.customer_id == customer_id, Holding.product_id == product_id)) or 0
        return f"v{version}|h{held}"
    return f"v{version}"


def _execute(crm: Crm, session: Session, actor: Actor, *, customer_id: int, kind: str,
             amount_fen: int, currency: str, product_id: int | None, maker_id: int | None,
             now: datetime, request_id: int | None) -> int:
    """The Trade row and the holding/AUM update, with the audit event."""
    if kind == "redemption":
        held = session.scalars(select(Holding).where(Holding.customer_id == customer_id,
                                                     Holding.product_id == product_id)
                               .with_for_update()).first()
        if held is None or held.amount_fen < amount_fen:
            raise Blocked("compliance.tx.insufficient",
                          held=str(from_fen(held.amount_fen if held else 0)))
        held.amount_fen -= amount_fen
        held.updated_at = now
        session.add(held)
        session.execute(update(Customer).where(Customer.id == customer_id).values(
            aum_fen=Customer.aum_fen - amount_fen))
    elif kind == "subscription":
        held = session.scalars(select(Holding).where(Holding.customer_id == customer_id,
                                                     Holding.product_id == product_id)
                               .with_for_update()).first()
        if held is None:
            held = Holding(customer_id=customer_id, product_id=product_id or 0, amount_fen=0)
        held.amount_fen += amount_fen
        held.updated_at = now
        session.add(held)
        session.execute(update(Customer).where(Customer.id == customer_id).values(
            aum_fen=Customer.aum_fen + amount_fen))
    trade = Trade(customer_id=customer_id, product_id=product_id, kind=kind,
                  amount_fen=amount_fen, currency=currency, occurred_at=now, status="executed",
                  staff_id=maker_id,
                  external_ref=f"approval:{request_id}" if request_id is not None else None)
    session.add(trade)
    session.flush()
    audit.record(crm.db, session, actor, "trade.execute", "trade", trade.id, None,
                 {"customer_id": customer_id, "kind": kind, "amount": str(from_fen(amount_fen)),
                  "currency": currency, "product_id": product_id, "request": request_id})
    return trade.id or 0


def record_transaction(crm: Crm, actor: Actor, customer_id: int, kind: str,
                       amount: Decimal | str, *, product_code: str | None = None,
                       currency: str | None = None, now: datetime | None = None,
                       session: Session | None = None, override_approved: bool = False,
                       ) -> TransactionOutcome:
    """Record a transaction: executed now, or sent up its approval chain; Blocked if a
    rule refuses it (KYC, suitability, freeze, insufficient holding).

    `session` runs it inside the caller's transaction (a won contract, issue 9);
    `override_approved` says a suitability override was already approved there."""
    require(actor, Perm.TRANSACTION_RECORD)
    if kind not in TX_KINDS:
        raise _bad("tx_kind", "validation.choice", value=kind)
    try:
        value = parse_amount(amount, allow_zero=False)
    except BadValue as exc:
        raise ValidationFailed([FieldError("tx_amount", exc.key, exc.params)]) from exc
    now = now or utcnow()
    policy = crm.policy()
    with nullcontext(session) if session is not None else crm.db.write() as session:
        c = load_in_scope(session, actor, customer_id)
        product: Product | None = None
        if kind in PRODUCT_KINDS:
            code = normalise_text(product_code)
            if not code:
                raise _bad("tx_product", "validation.required")
            product = session.scalars(select(Product).where(Product.code == code)).first()
            if product is None or not product.active:
                raise NotFound("compliance.error.product_not_found", code=code)
        cur = (currency or (product.currency if product else "CNY")).upper()
        if product is not None and cur != product.currency:
            raise _bad("tx_currency", "compliance.validation.currency_mismatch",
                       currency=cur, product=product.currency)
        ensure_not_frozen(session, customer_id, crm.tz)
        amount_fen = to_fen(value)
        suit: SuitabilityResult | None = None
        override: list[ApprovalLevelSpec] = []
        if kind in SUITABILITY_KINDS and product is not None:
            suit = assess(crm, session, c, product, now.astimezone(crm.tz).date())
            if suit.action == "block":
                raise Blocked(suit.reason_key, **suit.params)
            if suit.action == "approve" and not override_approved:
                override = [ApprovalLevelSpec(role=suit.approver_role)]  # type: ignore[arg-type]
        if kind == "redemption":
            held = session.scalar(select(Holding.amount_fen).where(
                Holding.customer_id == customer_id,
                Holding.product_id == (product.id if product else None))) or 0
            if held < amount_fen:
                raise Blocked("compliance.tx.insufficient", held=str(from_fen(held)))
        chain = policy.approvals.chain_for(value, cur)
        if chain is None:
            raise _bad("tx_currency", "compliance.validation.no_chain", currency=cur)
        levels = override + chain
        product_id = product.id if product else None
        if not levels:
            trade_id = _execute(crm, session, actor, customer_id=customer_id, kind=kind,
                                amount_fen=amount_fen, currency=cur, product_id=product_id,
                                maker_id=actor.id, now=now, request_id=None)
            return TransactionOutcome("executed", kind, value, cur, trade_id=trade_id,
                                      suitability=suit)
        display: dict[str, Any] = {
            "summary": ["compliance.summary.transaction",
                        {"kind": f"@compliance.tx_kind.{kind}", "amount": f"{value:,.2f}",
                         "currency": cur, "product": product.code if product else "-",
                         "customer": c.name}],
            "changes": [],
            "evidence": {"amount": f"{value:,.2f} {cur}"},
        }
        if suit is not None and suit.evidence is not None:
            display["evidence"].update(suit.evidence.as_dict())
            display["evidence"]["suitability"] = stored(suit.note)
        req = approvals.open_request(
            crm, session, actor,
            # an override approved upstream (a won contract) keeps the request an override,
            # so its approval still accepts the "approve" cell of the matrix
            kind="suitability_override" if override or (
                override_approved and suit is not None and suit.action == "approve")
            else "large_transaction",
            target_entity="customer", target_id=customer_id,
            target_version=_version(session, customer_id, kind, product_id), levels=levels,
            display=display, customer_id=customer_id, now=now,
            data={"kind": kind, "amount_fen": amount_fen, "currency": cur,
                  "product_id": product_id},
        )
        return TransactionOutcome("pending_approval", kind, value, cur, request_id=req.id,
                                  levels=tuple(lv.role for lv in levels), suitability=suit)


@dataclass(frozen=True)
class ProductChoice:
    code: str
    name: str
    risk_level: str
    currency: str


def list_products(crm: Crm, actor: Actor, limit: int = 500) -> list[ProductChoice]:
    """The active catalogue for the sale form, by risk then code."""
    require(actor, Perm.TRANSACTION_RECORD)
    with crm.db.read() as session:
        rows = session.execute(
            select(Product.code, Product.name, Product.risk_level, Product.currency)
            .where(Product.active).order_by(Product.risk_level, Product.code).limit(limit)  # type: ignore[arg-type]
        ).all()
    return [ProductChoice(*r) for r in rows]


class _Handler:
    def current_version(self, crm: Crm, session: Session, req: ApprovalRequest) -> str:
        data = req.payload["data"]
        return _version(session, req.customer_id or 0, data["kind"], data["product_id"])

    def check_applicable(self, crm: Crm, session: Session, req: ApprovalRequest,
                         now: datetime) -> None:
        """A freeze, or a sale that is no longer suitable (KYC lapsed, assessment expired,
        policy changed), stops approval; the approver may still reject."""
        ensure_not_frozen(session, req.customer_id or 0, crm.tz)
        data = req.payload["data"]
        if data["kind"] not in SUITABILITY_KINDS:
            return
        customer = session.get(Customer, req.customer_id)
        product = session.get(Product, data["product_id"])
        if customer is None or product is None:
            raise Blocked("compliance.error.target_gone", id=req.id)
        suit = assess(crm, session, customer, product, now.astimezone(crm.tz).date())
        if suit.action == "block":
            raise Blocked(suit.reason_key, **suit.params)
        if suit.action == "approve" and req.kind != "suitability_override":
            raise Blocked("compliance.error.suitability_changed", id=req.id)

    def apply(self, crm: Crm, session: Session, req: ApprovalRequest, actor: Actor,
              now: datetime) -> str:
        data = req.payload["data"]
        trade_id = _execute(crm, session, actor, customer_id=req.customer_id or 0,
                            kind=data["kind"], amount_fen=data["amount_fen"],
                            currency=data["currency"], product_id=data["product_id"],
                            maker_id=req.maker_id, now=now, request_id=req.id)
        return f"trade:{trade_id}"


_handler = _Handler()
approvals.register("large_transaction", _handler)
approvals.register("suitability_override", _handler)

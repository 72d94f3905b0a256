"""What a transaction request asks for, as the approver reads it: the trade itself (kind,
product, amount, the customer masked, the suitability result), read from the request's
own data rather than from a diff of fields, which a trade does not have."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlmodel import Session

from crm_tui.domain.kernel.masking import mask_name
from crm_tui.domain.kernel.messages import Msg, from_stored
from crm_tui.domain.kernel.validation import from_fen
from crm_tui.store.models import Product
from crm_tui.store.models_compliance import ApprovalRequest

TRANSACTION_KINDS = ("large_transaction", "suitability_override")


@dataclass(frozen=True)
class TradeView:
    kind: str  # a transaction kind (compliance.tx_kind.*)
    product_code: str
    product_name: str
    product_risk: str
    amount: Decimal
    currency: str
    customer: str  # masked
    suitability: Msg | None  # the suitability result the request was made with


def trade_of(session: Session, req: ApprovalRequest, customer_name: str | None) -> TradeView | None:
    """The trade a transaction request would execute; None for other kinds."""
    data = req.payload.get("data") or {}
    if req.kind not in TRANSACTION_KINDS or "amount_fen" not in data:
        return None
    product = (session.execute(select(Product.code, Product.name, Product.risk_level)
                               .where(Product.id == data["product_id"])).first()
               if data.get("product_id") else None)
    evidence = req.payload.get("display", {}).get("evidence", {})
    suitability = evidence.get("suitability")
    return TradeView(
        kind=str(data.get("kind", "")),
        product_code=product[0] if product else "", product_name=product[1] if product else "",
        product_risk=product[2] if product else "",
        amount=from_fen(int(data["amount_fen"])), currency=str(data.get("currency", "CNY")),
        customer=mask_name(customer_name),
        suitability=from_stored(suitability) if isinstance(suitability, list) else None,
    )

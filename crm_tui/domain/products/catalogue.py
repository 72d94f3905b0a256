"""The product catalogue: cleaning an imported row, storing it (idempotent by product code),
listing and retiring. What matching, proposals, allocation and maturity reminders read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import Blocked, FieldError, NotFound
from crm_tui.domain.kernel.fields import clean
from crm_tui.domain.kernel.permissions import Perm, can, require
from crm_tui.domain.kernel.validation import from_fen, normalise_text, to_fen
from crm_tui.domain.products import fields as F
from crm_tui.store.models import Holding, Product

PAGE = 200

# cleaned field → Product column (values converted by `_columns`)
_SIMPLE = {"product_code": "code", "product_name": "name", "category": "category",
           "asset_class": "asset_class", "product_risk": "risk_level", "issuer": "issuer",
           "term_days": "term_days", "maturity_date": "maturity_date",
           "early_redeemable": "early_redeemable", "disclosure": "disclosure"}


@dataclass(frozen=True)
class ProductView:
    code: str
    name: str
    category: str
    asset_class: str
    risk_level: str
    currency: str
    min_amount: Decimal
    step_amount: Decimal
    term_days: int | None
    maturity_date: date | None
    fee_rate_bp: int
    return_low_bp: int | None
    return_high_bp: int | None
    issuer: str
    early_redeemable: bool
    disclosure: str
    active: bool

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "category": self.category,
                "asset_class": self.asset_class, "risk_level": self.risk_level,
                "currency": self.currency, "min_amount": str(self.min_amount),
                "step_amount": str(self.step_amount), "term_days": self.term_days,
                "maturity_date": self.maturity_date.isoformat() if self.maturity_date else None,
                "fee_rate_bp": self.fee_rate_bp, "expected_return_low_bp": self.return_low_bp,
                "expected_return_high_bp": self.return_high_bp, "issuer": self.issuer,
                "early_redeemable": self.early_redeemable, "active": self.active}


def view_of(p: Product) -> ProductView:
    return ProductView(p.code, p.name, p.category, p.asset_class, p.risk_level, p.currency,
                       from_fen(p.min_amount_fen), from_fen(p.step_amount_fen), p.term_days,
                       p.maturity_date, p.fee_rate_bp, p.expected_return_low_bp,
                       p.expected_return_high_bp, p.issuer, p.early_redeemable, p.disclosure,
                       p.active)


def _bp(value: Decimal | None) -> int | None:
    """A percentage (3.25) as basis points (325); more than two places is refused upstream."""
    return None if value is None else int((value * 100).to_integral_value())


def _places(value: Decimal | None) -> int:
    return 0 if value is None else max(0, -value.normalize().as_tuple().exponent)  # type: ignore[operator]


def clean_product(raw: Mapping[str, Any], row: int | None = None
                  ) -> tuple[dict[str, Any] | None, list[FieldError]]:
    """Product columns from one record, or every problem with it (row, field, reason)."""
    only = [s.key for s in F.fields_of_product() if s.key in raw or s.required]
    out, errors = clean(F.PRODUCT, raw, only=only, row=row)
    for key in ("fee_rate", "return_low", "return_high"):
        if _places(out.get(key)) > 2:
            errors.append(FieldError(key, "products.validation.places", {"places": 2}, row))
    low, high = out.get("return_low"), out.get("return_high")
    if low is not None and high is not None and low > high:
        errors.append(FieldError("return_high", "products.validation.range", {}, row))
    if errors:
        return None, errors
    return _columns(out), []


def _columns(out: dict[str, Any]) -> dict[str, Any]:
    cols = {col: out[key] for key, col in _SIMPLE.items() if key in out}
    if "currency" in out:
        cols["currency"] = out["currency"] or "CNY"
    for key, col in (("min_amount", "min_amount_fen"), ("step_amount", "step_amount_fen")):
        if key in out:
            cols[col] = to_fen(out[key] or Decimal(0))
    if "fee_rate" in out:
        cols["fee_rate_bp"] = _bp(out["fee_rate"]) or 0
    if "return_low" in out:
        cols["expected_return_low_bp"] = _bp(out["return_low"])
    if "return_high" in out:
        cols["expected_return_high_bp"] = _bp(out["return_high"])
    for text in ("issuer", "disclosure"):
        if text in cols and cols[text] is None:
            cols[text] = ""
    return cols


def store_products(crm: Crm, session: Session, actor: Actor, rows: list[dict[str, Any]],
                   source: str) -> tuple[int, int, int]:
    """Insert new codes, update changed ones, leave identical ones: (created, updated,
    unchanged). A retired product named again comes back active. One audit event."""
    require(actor, Perm.PRODUCT_MANAGE)
    codes = [r["code"] for r in rows]
    existing = {p.code: p for p in session.scalars(select(Product).where(Product.code.in_(codes)))}  # type: ignore[attr-defined]
    created = updated = unchanged = 0
    for cols in rows:
        p = existing.get(cols["code"])
        if p is None:
            p = Product(**{"currency": "CNY", **cols})
            session.add(p)
            existing[p.code] = p
            created += 1
            continue
        changes = {k: v for k, v in cols.items() if getattr(p, k) != v}
        if not p.active:
            changes["active"] = True
        if not changes:
            unchanged += 1
            continue
        if "currency" in changes and _held(session, p.id):
            raise Blocked("products.error.currency_held", code=p.code)
        for k, v in changes.items():
            setattr(p, k, v)
        session.add(p)
        updated += 1
    session.flush()
    audit.record(crm.db, session, actor, "product.import", "product", source, None,
                 {"created": created, "updated": updated, "unchanged": unchanged,
                  "codes": codes[:50]})
    return created, updated, unchanged


def _held(session: Session, product_id: int | None) -> bool:
    return session.scalar(select(Holding.id).where(Holding.product_id == product_id,
                                                   Holding.units_e4 > 0).limit(1)) is not None


def list_catalogue(crm: Crm, actor: Actor, *, after: str | None = None, limit: int = PAGE,
                   include_retired: bool = True) -> list[ProductView]:
    """One page of the catalogue by code (keyset: codes after `after`)."""
    if not (can(actor, Perm.PRODUCT_MANAGE) or can(actor, Perm.CUSTOMER_VIEW)):
        require(actor, Perm.PRODUCT_MANAGE)
    q = select(Product).order_by(Product.code).limit(max(1, min(limit, 1000)))
    if after:
        q = q.where(Product.code > after)
    if not include_retired:
        q = q.where(Product.active)  # type: ignore[arg-type]
    with crm.db.read() as session:
        return [view_of(p) for p in session.scalars(q)]


def retire_product(crm: Crm, actor: Actor, code: str) -> ProductView:
    """Stop selling a product: it leaves the sale form and suggestions; holdings stay."""
    require(actor, Perm.PRODUCT_MANAGE)
    code = normalise_text(code).upper()
    with crm.db.write() as session:
        p = session.scalars(select(Product).where(Product.code == code)).first()
        if p is None:
            raise NotFound("products.error.not_found", code=code)
        if not p.active:
            raise Blocked("products.error.already_retired", code=code)
        p.active = False
        session.add(p)
        audit.record(crm.db, session, actor, "product.retire", "product", p.id,
                     {"active": True}, {"active": False})
        session.flush()
        return view_of(p)

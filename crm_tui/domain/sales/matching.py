"""Product matching: the catalogue against the customer's risk level (the suitability
gate), horizon (term), liquidity (early redemption) and funds (minimum amount). Fitting
products come first, ranked, each with its reason; blocked ones stay in the list, greyed,
with the suitability reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from crm_tui.domain.compliance.suitability import assess
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.messages import Msg
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.validation import from_fen, to_fen
from crm_tui.domain.sales.opportunities import load_opportunity
from crm_tui.domain.sales.questionnaires import latest_needs
from crm_tui.store.models import Customer, Product
from crm_tui.store.types import utcnow

HORIZON_DAYS = {"lt1y": 365, "1to3y": 3 * 365, "3to5y": 5 * 365, "gt5y": None}
LIMIT = 500


@dataclass(frozen=True)
class ProductMatch:
    code: str
    name: str
    risk_level: str
    fits: bool
    blocked: bool
    """Refused by suitability (shown greyed)."""
    needs_override: bool
    reason_key: str
    params: dict[str, Any]
    score: int

    @property
    def reason(self) -> Msg:
        return Msg(self.reason_key, self.params)


def match_products(crm: Crm, actor: Actor, opp_id: int,
                   now: datetime | None = None) -> list[ProductMatch]:
    require(actor, Perm.CUSTOMER_VIEW)
    now = now or utcnow()
    today = now.astimezone(crm.tz).date()
    with crm.db.read() as session:
        opp = load_opportunity(session, actor, opp_id)
        customer = session.get(Customer, opp.customer_id)
        assert customer is not None
        needs = latest_needs(session, opp.customer_id)
        funds = to_fen(needs.investable_funds) if needs else opp.amount_fen
        products = session.scalars(select(Product).where(Product.active)  # type: ignore[arg-type]
                                   .order_by(Product.risk_level, Product.code).limit(LIMIT)).all()
        out = []
        for p in products:
            suit = assess(crm, session, customer, p, today)
            if suit.action == "block":
                out.append(ProductMatch(p.code, p.name, p.risk_level, False, True, False,
                                        suit.reason_key, suit.params, -1))
                continue
            miss = _misfit(p, needs.horizon if needs else None,
                           needs.liquidity if needs else None, funds)
            if miss is not None:
                out.append(ProductMatch(p.code, p.name, p.risk_level, False, False,
                                        suit.action == "approve", miss[0], miss[1], 0))
                continue
            score = 100 + (p.expected_return_high_bp or 0) // 10 - p.fee_rate_bp // 10
            if suit.action == "approve":
                score -= 50
            key = "sales.match.fits_override" if suit.action == "approve" else "sales.match.fits"
            out.append(ProductMatch(p.code, p.name, p.risk_level, True, False,
                                    suit.action == "approve", key,
                                    {"risk": p.risk_level, "level": suit.params.get("level", "-"),
                                     "role": suit.params.get("role", "")}, score))
    out.sort(key=lambda m: (not m.fits, m.blocked, -m.score, m.code))
    return out


def _misfit(p: Product, horizon: str | None, liquidity: str | None,
            funds_fen: int) -> tuple[str, dict[str, Any]] | None:
    limit = HORIZON_DAYS.get(horizon or "")
    if limit is not None and p.term_days is not None and p.term_days > limit:
        return "sales.match.term_too_long", {"days": p.term_days, "limit": limit}
    if liquidity == "high" and not p.early_redeemable and (p.term_days or 0) > 90:
        return "sales.match.not_liquid", {"days": p.term_days or 0}
    if p.min_amount_fen > funds_fen > 0:
        return "sales.match.below_minimum", {"min": f"{from_fen(p.min_amount_fen):,.2f}"}
    return None

"""The 360° profile read model: everything the profile screen shows, as frozen views."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import case, func, or_, select
from sqlmodel import Session

from crm_tui.domain.customers.interactions import interaction_page
from crm_tui.domain.customers.kyc import checklist_for, risk_status
from crm_tui.domain.customers.views import CustomerView, HoldingView, RelationNode, TagView
from crm_tui.domain.kernel.access_log import log_access
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import NotFound
from crm_tui.domain.kernel.masking import birth_beside_id, mask_by_policy
from crm_tui.domain.kernel.permissions import Perm, customer_scope, require
from crm_tui.domain.kernel.validation import from_fen
from crm_tui.store.models import Branch, Customer, CustomerTag, Holding, Product, Relationship, Staff, Tag
from crm_tui.store.models_products import (
    PAR_PRICE,
    PRICE_SCALE,
    UNIT_SCALE,
    join_valuation,
    valuation_columns,
)


def _network(session: Session, actor: Actor, root_id: int, depth: int = 2) -> tuple[RelationNode, ...]:
    """Relations out to `depth` steps, each edge read both ways, no node twice."""
    # The scope as a per-row flag: a subquery of the whole scope would list a branch's
    # (or, for compliance, every) customer id on each call.
    visible_flag = case((customer_scope(actor), True), else_=False)
    seen = {root_id}

    def children(cid: int, level: int) -> tuple[RelationNode, ...]:
        if level > depth:
            return ()
        rows = session.execute(
            select(Relationship.kind, Relationship.related_id, Relationship.customer_id)
            .where(or_(Relationship.customer_id == cid, Relationship.related_id == cid))
            .order_by(Relationship.kind, Relationship.id)
        ).all()
        edges = []
        for kind, a, b in rows:
            other = a if b == cid else b
            if other in seen:
                continue
            seen.add(other)
            edges.append((kind if b == cid else _inverse(kind), other))
        if not edges:
            return ()
        ids = [o for _, o in edges]
        found = session.execute(
            select(Customer.id, Customer.name, visible_flag)
            .where(Customer.id.in_(ids))  # type: ignore[union-attr]
        ).all()
        names = {cid: name for cid, name, _ in found}
        visible = {cid for cid, _, flag in found if flag}
        return tuple(
            RelationNode(o, names.get(o, "?"), k, o in visible, children(o, level + 1))
            for k, o in edges
        )

    return children(root_id, 1)


def _holdings(session: Session, customer_id: int, today: date) -> tuple[HoldingView, ...]:
    """Each holding at its latest price and rate (one query; see models_products)."""
    h = Holding.__table__  # type: ignore[attr-defined]
    lp, lr, value, value_cny = valuation_columns(h, today)
    price = func.coalesce(lp.c.price_e6, PAR_PRICE)
    q = join_valuation(
        select(Product.code, Product.name, Product.category, Product.risk_level, h.c.currency,
               h.c.units_e4, price, h.c.amount_fen, value, value_cny, Product.asset_class,
               Product.maturity_date)
        .select_from(h).join(Product, Product.id == h.c.product_id), h, lp, lr)
    rows = session.execute(q.where(h.c.customer_id == customer_id, h.c.units_e4 > 0)
                           .order_by(func.coalesce(value_cny, 0).desc(), Product.code)).all()
    return tuple(HoldingView(code, name, cat, risk, from_fen(int(v_cny or 0)), currency=cur,
                         units=Decimal(int(units)) / UNIT_SCALE,
                         price=Decimal(int(px)) / PRICE_SCALE, cost=from_fen(int(cost)),
                         value=from_fen(int(v)),
                         value_cny=None if v_cny is None else from_fen(int(v_cny)),
                         asset_class=ac, maturity_date=mat)
             for code, name, cat, risk, cur, units, px, cost, v, v_cny, ac, mat in rows)


_INVERSE = {"parent": "child", "child": "parent"}


def _inverse(kind: str) -> str:
    return _INVERSE.get(kind, kind)


def get_profile(crm: Crm, actor: Actor, customer_id: int, *, today: date | None = None,
                interactions: int = 20, include_restricted: bool = False) -> CustomerView:
    """Everything on the 360° screen, read in one short transaction; the opening goes to
    the access log. `include_restricted` serves compliance's reasoned look at a restricted
    record (`privacy.restricted`), and only compliance's scope honours it."""
    require(actor, Perm.CUSTOMER_VIEW)
    today = today or datetime.now(crm.tz).date()
    policy = crm.policy()
    with crm.db.read() as session:
        found = session.execute(
            select(Customer, Staff.display_name, Branch.name)
            .outerjoin(Staff, Staff.id == Customer.rm_id)
            .outerjoin(Branch, Branch.id == Customer.branch_id)
            .where(Customer.id == customer_id,
                   customer_scope(actor, include_restricted=include_restricted))
        ).first()
        if found is None:
            raise NotFound("error.customer_not_found", id=customer_id)
        c, rm_name, branch = found[0], found[1] or "", found[2] or ""
        holdings = _holdings(session, c.id or 0, today)
        tags = session.execute(
            select(Tag.id, Tag.name, Tag.name_en, CustomerTag.source)
            .join(CustomerTag, CustomerTag.tag_id == Tag.id)
            .where(CustomerTag.customer_id == c.id)
            .order_by(CustomerTag.source.desc(), Tag.name)  # type: ignore[attr-defined]
        ).all()
        kyc = checklist_for(session, policy, c.id or 0, c.kind, today)
        page, more = interaction_page(session, c.id or 0, limit=interactions)
        network = _network(session, actor, c.id or 0)
    log_access(crm.db, actor, "restricted" if c.restricted else "profile", customer_id=c.id)
    keys, rules = crm.keys, policy.masking
    birth_date, birth_year = birth_beside_id(c.birth_date, rules)  # beside the masked ID
    return CustomerView(
        id=c.id or 0, kind=c.kind, name=c.name, id_type=c.id_type,
        national_id_masked=mask_by_policy(
            "national_id", keys.decrypt("national_id", c.national_id_enc), rules),
        phone_masked=mask_by_policy("phone", keys.decrypt("phone", c.phone_enc), rules),
        bank_account_masked=mask_by_policy(
            "bank_account", keys.decrypt("bank_account", c.bank_account_enc), rules),
        email=c.email, birth_date=birth_date, birth_year=birth_year, gender=c.gender,
        address=c.address,
        occupation=c.occupation, annual_income=from_fen(c.annual_income_fen), goals=c.goals,
        risk_level=c.risk_level, risk_valid_until=c.risk_valid_until,
        risk_status=risk_status(policy, c.risk_valid_until, today),
        aum=from_fen(c.aum_fen), branch_name=branch, rm_name=rm_name, status=c.status,
        version=c.version, created_at=c.created_at, kyc=kyc,
        holdings=holdings,
        tags=tuple(TagView(t[0], t[1], t[2], t[3]) for t in tags),
        interactions=page, more_interactions=more, network=network,
        change_fields=tuple(policy.approvals.sensitive_fields),
    )

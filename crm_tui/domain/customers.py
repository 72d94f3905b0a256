"""Customer 360°: find, open, edit non-sensitive fields, reveal a masked value."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, update
from sqlalchemy.orm import aliased
from sqlmodel import Session

from crm_tui.domain import audit
from crm_tui.domain.actor import Actor
from crm_tui.domain.context import Crm
from crm_tui.domain.customer_fields import SENSITIVE_FIELDS, clean_customer, customer_row
from crm_tui.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from crm_tui.domain.kyc import checklist_for, risk_status
from crm_tui.domain.masking import MASKERS, mask_phone_tail
from crm_tui.domain.permissions import Perm, customer_scope, require, sees_every_branch
from crm_tui.domain.validation import (
    BadValue,
    from_fen,
    normalise_text,
    parse_amount,
    parse_email,
    to_fen,
)
from crm_tui.domain.views import (
    CustomerSummary,
    CustomerView,
    HoldingView,
    RelationNode,
    TagView,
)
from crm_tui.store.models import (
    Branch,
    Customer,
    CustomerTag,
    Holding,
    Product,
    Relationship,
    Staff,
    Tag,
)
from crm_tui.store.types import utcnow

SEARCH_LIMIT = 50
_ID_RE = re.compile(r"^(\d{17}[\dXx]|\d{15})$")
# Built once: aliasing a SQLModel class costs ~2.5 ms, most of a search's time (bench/).
_RM = aliased(Staff)


def _prefix(db_is_sqlite: bool, col: Any, value: str) -> ColumnElement[bool]:
    """An index-friendly prefix match: a range on SQLite, LIKE 'x%' elsewhere."""
    if db_is_sqlite:
        return and_(col >= value, col < value + "\U0010ffff")
    return col.startswith(value, autoescape=True)


_VOWELS = frozenset("aeiouv")


def search_plan(crm: Crm, query: str, *, whole_bank: bool = False,
                ) -> tuple[ColumnElement[bool], Any] | None:
    """What a query means (ID, mobile, phone tail, pinyin or the start of a name) and the
    column results are ordered by.

    A scoped search (an RM's book, a branch) reads its own covering index, so pinyin
    initials and full pinyin are tried together and ordered by name. A search across the
    whole bank (compliance, risk) must walk one index in its own order instead of sorting
    every match: letters without a vowel are initials (`zs`), letters with one are the
    start of the full pinyin (`zhang`) — measured on 1M customers, the combined form took
    90–335 ms warm for these users.
    """
    q = normalise_text(query).replace(" ", "")
    if not q:
        return None
    sqlite = crm.db.is_sqlite
    if _ID_RE.match(q):
        return (Customer.national_id_bidx == crm.keys.blind_index("national_id", q.upper()),
                Customer.name)
    if q.isdigit():
        if len(q) == 11:
            return Customer.phone_bidx == crm.keys.blind_index("phone", q), Customer.name
        if len(q) == 4:
            return Customer.phone_last4 == q, Customer.name
        return None
    if q.isascii() and q.isalpha():
        low = q.lower()
        if not whole_bank:
            return (or_(_prefix(sqlite, Customer.name_initials, low),
                        _prefix(sqlite, Customer.name_pinyin, low)), Customer.name)
        column = Customer.name_pinyin if _VOWELS & set(low) else Customer.name_initials
        return _prefix(sqlite, column, low), column
    return _prefix(sqlite, Customer.name, q), Customer.name


def search_customers(
    crm: Crm,
    actor: Actor,
    query: str,
    *,
    limit: int = SEARCH_LIMIT,
    after: tuple[str, int] | None = None,
) -> list[CustomerSummary]:
    """Customers in the actor's scope matching `query`, keyset-paged on (sort_key, id)."""
    require(actor, Perm.CUSTOMER_VIEW)
    plan = search_plan(crm, query, whole_bank=sees_every_branch(actor))
    if plan is None:
        return []
    cond, order = plan
    rm = _RM
    q = (
        select(Customer.id, Customer.name, Customer.kind, Customer.phone_last4,
               Customer.risk_level, Customer.aum_fen, rm.display_name, Branch.name, order)
        .outerjoin(rm, rm.id == Customer.rm_id)
        .outerjoin(Branch, Branch.id == Customer.branch_id)
        .where(cond, customer_scope(actor))
        .order_by(order, Customer.id)
        .limit(limit)
    )
    if after is not None:
        q = q.where(or_(order > after[0], and_(order == after[0], Customer.id > after[1])))
    with crm.db.read() as session:
        rows = session.execute(q).all()
    return [
        CustomerSummary(r[0], r[1], r[2], mask_phone_tail(r[3]), r[4], from_fen(r[5]),
                        r[6] or "", r[7] or "", r[8] or "")
        for r in rows
    ]


def load_in_scope(session: Session, actor: Actor, customer_id: int) -> Customer:
    """The customer, or NotFound when it does not exist or lies outside the actor's book."""
    row = session.scalars(
        select(Customer).where(Customer.id == customer_id, customer_scope(actor))
    ).first()
    if row is None:
        raise NotFound("error.customer_not_found", id=customer_id)
    return row


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


_INVERSE = {"parent": "child", "child": "parent"}


def _inverse(kind: str) -> str:
    return _INVERSE.get(kind, kind)


def get_profile(crm: Crm, actor: Actor, customer_id: int, *, today: date | None = None,
                interactions: int = 20) -> CustomerView:
    """Everything on the 360° screen, read in one short transaction."""
    from crm_tui.domain.interactions import interaction_page

    require(actor, Perm.CUSTOMER_VIEW)
    today = today or datetime.now(crm.tz).date()
    policy = crm.policy()
    with crm.db.read() as session:
        found = session.execute(
            select(Customer, Staff.display_name, Branch.name)
            .outerjoin(Staff, Staff.id == Customer.rm_id)
            .outerjoin(Branch, Branch.id == Customer.branch_id)
            .where(Customer.id == customer_id, customer_scope(actor))
        ).first()
        if found is None:
            raise NotFound("error.customer_not_found", id=customer_id)
        c, rm_name, branch = found[0], found[1] or "", found[2] or ""
        holdings = session.execute(
            select(Product.code, Product.name, Product.category, Product.risk_level,
                   Holding.amount_fen)
            .join(Product, Product.id == Holding.product_id)
            .where(Holding.customer_id == c.id)
            .order_by(Holding.amount_fen.desc())  # type: ignore[attr-defined]
        ).all()
        tags = session.execute(
            select(Tag.id, Tag.name, Tag.name_en, CustomerTag.source)
            .join(CustomerTag, CustomerTag.tag_id == Tag.id)
            .where(CustomerTag.customer_id == c.id)
            .order_by(CustomerTag.source.desc(), Tag.name)  # type: ignore[attr-defined]
        ).all()
        kyc = checklist_for(session, policy, c.id or 0, c.kind, today)
        page, more = interaction_page(session, c.id or 0, limit=interactions)
        network = _network(session, actor, c.id or 0)
    keys = crm.keys
    return CustomerView(
        id=c.id or 0, kind=c.kind, name=c.name, id_type=c.id_type,
        national_id_masked=MASKERS["national_id"](keys.decrypt("national_id", c.national_id_enc)),
        phone_masked=MASKERS["phone"](keys.decrypt("phone", c.phone_enc)),
        bank_account_masked=MASKERS["bank_account"](
            keys.decrypt("bank_account", c.bank_account_enc)),
        email=c.email, birth_date=c.birth_date, gender=c.gender, address=c.address,
        occupation=c.occupation, annual_income=from_fen(c.annual_income_fen), goals=c.goals,
        risk_level=c.risk_level, risk_valid_until=c.risk_valid_until,
        risk_status=risk_status(policy, c.risk_valid_until, today),
        aum=from_fen(c.aum_fen), branch_name=branch, rm_name=rm_name, status=c.status,
        version=c.version, created_at=c.created_at, kyc=kyc,
        holdings=tuple(HoldingView(h[0], h[1], h[2], h[3], from_fen(h[4])) for h in holdings),
        tags=tuple(TagView(t[0], t[1], t[2], t[3]) for t in tags),
        interactions=page, more_interactions=more, network=network,
    )


# -- editing ---------------------------------------------------------------------------

EDITABLE_FIELDS = ("email", "address", "occupation", "annual_income", "goals")


def _clean_edit(changes: dict[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    out: dict[str, Any] = {}
    errors: list[FieldError] = []
    for field, raw in changes.items():
        if field in SENSITIVE_FIELDS or field in ("name", "risk_level"):
            errors.append(FieldError(field, "validation.sensitive_needs_approval", {}))
            continue
        if field not in EDITABLE_FIELDS:
            errors.append(FieldError(field, "validation.not_editable", {}))
            continue
        try:
            if field == "email":
                out["email"] = parse_email(raw)
            elif field == "annual_income":
                out["annual_income_fen"] = to_fen(parse_amount(raw))
            else:
                value = normalise_text(raw)
                limit = {"address": 400, "occupation": 100, "goals": 1000}[field]
                if len(value) > limit:
                    raise BadValue("validation.too_long", max=limit)
                out[field] = value
        except BadValue as exc:
            errors.append(FieldError(field, exc.key, exc.params))
    return out, errors


def update_customer(crm: Crm, actor: Actor, customer_id: int, expected_version: int,
                    changes: dict[str, Any]) -> int:
    """Save non-sensitive fields if nobody saved since `expected_version`; returns the new
    version. Sensitive fields go through maker-checker, never through here."""
    require(actor, Perm.CUSTOMER_EDIT)
    values, errors = _clean_edit(changes)
    if errors:
        raise ValidationFailed(errors)
    with crm.db.write() as session:
        c = load_in_scope(session, actor, customer_id)
        before = {k: getattr(c, k) for k in values}
        after = {k: v for k, v in values.items() if before[k] != v}
        if not after:
            if c.version != expected_version:
                raise Conflict(version=c.version)
            return c.version
        result = session.execute(
            update(Customer)
            .where(Customer.id == customer_id, Customer.version == expected_version)
            .values(**after, version=Customer.version + 1, updated_at=utcnow())
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(version=c.version)
        audit.record(crm.db, session, actor, "customer.update", "customer", customer_id,
                     {k: before[k] for k in after}, after)
        return expected_version + 1


def reveal_sensitive(crm: Crm, actor: Actor, customer_id: int, field: str, reason: str) -> str:
    """The plaintext of one sensitive field, for a stated reason, audited (not the value)."""
    require(actor, Perm.SENSITIVE_REVEAL)
    if field not in SENSITIVE_FIELDS:
        raise ValidationFailed([FieldError("field", "validation.choice", {"value": field})])
    reason = normalise_text(reason)
    if len(reason) < 2:
        raise ValidationFailed([FieldError("reason", "validation.reason_required", {})])
    with crm.db.write() as session:
        c = load_in_scope(session, actor, customer_id)
        value = crm.keys.decrypt(field, getattr(c, f"{field}_enc")) or ""
        audit.record(crm.db, session, actor, "customer.reveal", "customer", customer_id,
                     None, {"field": field, "reason": reason})
    return value


def create_customer(crm: Crm, actor: Actor, raw: dict[str, Any]) -> int:
    """One new customer from a form; the RM defaults to the actor when she is an RM."""
    require(actor, Perm.CUSTOMER_CREATE)
    clean, errors = clean_customer(raw)
    if errors or clean is None:
        raise ValidationFailed(errors)
    with crm.db.write() as session:
        if clean.national_id:
            bidx = crm.keys.blind_index("national_id", clean.national_id)
            if session.scalar(select(Customer.id).where(Customer.national_id_bidx == bidx)):
                raise ValidationFailed([FieldError("national_id", "validation.duplicate_id", {})])
        rm_id = actor.id if actor.role == "rm" else None
        row = customer_row(crm.keys, clean, branch_id=actor.branch_id, rm_id=rm_id)
        c = Customer(**row)
        session.add(c)
        session.flush()
        from crm_tui.domain.tags import evaluate_rule_tags

        evaluate_rule_tags(session, crm.policy(), [c.id or 0])
        audit.record(crm.db, session, actor, "customer.create", "customer", c.id, None,
                     {"name": c.name, "national_id": MASKERS["national_id"](clean.national_id)})
        return c.id or 0


def count_in_scope(crm: Crm, actor: Actor) -> int:
    require(actor, Perm.CUSTOMER_VIEW)
    with crm.db.read() as session:
        return session.scalar(select(func.count()).select_from(Customer)
                              .where(customer_scope(actor))) or 0

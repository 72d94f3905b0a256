"""Tags: by hand (an RM's judgement) and by rule (the policy's tiering), kept apart.

Rule tags are computed in SQL for whole sets of customers, so applying a policy to a
million customers is a few INSERT … SELECT statements, not a Python loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from crm_tui.domain.customers.scope import load_in_scope
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import Blocked, FieldError, NotFound, ValidationFailed
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.validation import normalise_prose, to_fen
from crm_tui.domain.policy.document import Policy, TagRule
from crm_tui.store.models import Customer, CustomerTag, Tag, Trade
from crm_tui.store.types import utcnow

_OPS = {
    ">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
}


def _rule_condition(rule: TagRule) -> ColumnElement[bool]:
    op = _OPS[rule.op]
    if rule.metric == "aum":
        return op(Customer.aum_fen, to_fen(Decimal(str(rule.value))))
    if rule.metric == "risk_level":
        return op(Customer.risk_level, str(rule.value))
    if rule.metric == "trades_90d":
        since = utcnow() - timedelta(days=90)
        count = (
            select(func.count()).select_from(Trade)
            .where(Trade.customer_id == Customer.id, Trade.occurred_at >= since,
                   Trade.status == "executed")
            .scalar_subquery()
        )
        return op(count, int(Decimal(str(rule.value))))
    # age in whole years, approximated by birth date cut-off
    years = int(Decimal(str(rule.value)))
    today = utcnow().date()
    try:
        cutoff = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        cutoff = today.replace(year=today.year - years, day=28)
    flipped = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}[rule.op]
    return and_(Customer.birth_date.is_not(None), _OPS[flipped](Customer.birth_date, cutoff))  # type: ignore[union-attr]


def _among(column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    """`column IN ids`; a contiguous `range` (an import chunk) becomes an index range scan."""
    if isinstance(ids, range) and ids.step == 1:
        return and_(column >= ids.start, column < ids.stop)
    return column.in_(ids)


def ensure_tag(session: Session, name: str, name_en: str = "", kind: str = "manual") -> int:
    """The tag's id, creating it if needed. Two sessions may create the same tag at once
    (two leads converted together both evaluate the rule tags): the insert skips a name
    another transaction has just taken, and the id is read back, so neither one fails."""
    tag_id = session.scalar(select(Tag.id).where(Tag.name == name))
    if tag_id is not None:
        return tag_id
    dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(dialect_insert(Tag).values(name=name, name_en=name_en, kind=kind)
                    .on_conflict_do_nothing(index_elements=["name"]))
    return session.scalar(select(Tag.id).where(Tag.name == name)) or 0


def evaluate_rule_tags(session: Session, policy: Policy,
                       customer_ids: Sequence[int] | None = None) -> dict[str, int]:
    """Recompute rule tags (for all customers, or just `customer_ids`); returns counts."""
    counts: dict[str, int] = {}
    rule_names = [r.tag for r in policy.tag_rules]
    # Rule tags whose rule was removed from the policy lose their rule-sourced members.
    stale = select(Tag.id).where(Tag.kind == "rule", Tag.name.not_in(rule_names))  # type: ignore[attr-defined]
    q = delete(CustomerTag).where(CustomerTag.source == "rule", CustomerTag.tag_id.in_(stale))  # type: ignore[attr-defined]
    if customer_ids is not None:
        q = q.where(_among(CustomerTag.customer_id, customer_ids))
    session.execute(q)
    for rule in policy.tag_rules:
        tag_id = ensure_tag(session, rule.tag, rule.tag_en, "rule")
        session.execute(
            Tag.__table__.update().where(Tag.id == tag_id).values(kind="rule", name_en=rule.tag_en)  # type: ignore[attr-defined]
        )
        d = delete(CustomerTag).where(CustomerTag.tag_id == tag_id, CustomerTag.source == "rule")
        sel_where = [_rule_condition(rule)]
        if customer_ids is not None:
            d = d.where(_among(CustomerTag.customer_id, customer_ids))
            sel_where.append(_among(Customer.id, customer_ids))
        session.execute(d)
        # NOT EXISTS probes the primary key per customer; NOT IN built the tag's whole
        # member list on every call (a million-row list per import chunk).
        tagged = select(CustomerTag.customer_id).where(CustomerTag.customer_id == Customer.id,
                                                      CustomerTag.tag_id == tag_id)
        sel = select(Customer.id, literal(tag_id), literal("rule"), literal(utcnow())).where(
            *sel_where, ~tagged.exists()
        )
        session.execute(
            insert(CustomerTag).from_select(["customer_id", "tag_id", "source", "added_at"], sel)
        )
        n = select(func.count()).select_from(CustomerTag).where(
            CustomerTag.tag_id == tag_id, CustomerTag.source == "rule")
        if customer_ids is not None:
            n = n.where(_among(CustomerTag.customer_id, customer_ids))
        counts[rule.tag] = session.scalar(n) or 0
    return counts


def add_tag(crm: Crm, actor: Actor, customer_id: int, name: str) -> bool:
    """Add a manual tag; False (nothing written) when the customer already has it."""
    require(actor, Perm.TAG_MANAGE)
    name = normalise_prose(name)
    if not name:
        raise ValidationFailed([FieldError("tag", "validation.required", {})])
    if len(name) > 50:
        raise ValidationFailed([FieldError("tag", "validation.too_long", {"max": 50})])
    if name in {r.tag for r in crm.policy().tag_rules}:
        raise Blocked("error.tag_is_rule", tag=name)
    with crm.db.write() as session:
        load_in_scope(session, actor, customer_id)
        tag_id = ensure_tag(session, name)
        if session.get(CustomerTag, (customer_id, tag_id)) is not None:
            return False
        session.add(CustomerTag(customer_id=customer_id, tag_id=tag_id, source="manual",
                                added_by=actor.id))
        audit.record(crm.db, session, actor, "tag.add", "customer", customer_id, None,
                     {"tag": name})
    return True


def remove_tag(crm: Crm, actor: Actor, customer_id: int, tag_id: int) -> None:
    """Manual tags only: a rule tag goes when the customer no longer meets the rule."""
    require(actor, Perm.TAG_MANAGE)
    with crm.db.write() as session:
        load_in_scope(session, actor, customer_id)
        link = session.get(CustomerTag, (customer_id, tag_id))
        if link is None:
            raise NotFound("error.tag_not_found")
        tag = session.get(Tag, tag_id)
        if link.source == "rule":
            raise Blocked("error.tag_is_rule", tag=tag.name if tag else tag_id)
        session.delete(link)
        audit.record(crm.db, session, actor, "tag.remove", "customer", customer_id,
                     {"tag": tag.name if tag else tag_id}, None)


def tag_names(session: Session) -> list[str]:
    return list(session.scalars(select(Tag.name).order_by(Tag.name)).all())

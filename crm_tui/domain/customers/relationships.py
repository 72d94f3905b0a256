"""The relationship network: household, business partners, decision influencers."""

from __future__ import annotations

from crm_tui.domain.customers.scope import load_in_scope
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, ValidationFailed
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.store.models import Relationship

KINDS = ("spouse", "parent", "child", "household", "business_partner", "influencer")


def add_relationship(crm: Crm, actor: Actor, customer_id: int, related_id: int, kind: str,
                     note: str = "") -> int:
    """Record that `related_id` is `customer_id`'s `kind` (e.g. her child, his business
    partner). Both customers must be in the actor's book."""
    require(actor, Perm.CUSTOMER_EDIT)
    if kind not in KINDS:
        raise ValidationFailed([FieldError("kind", "validation.choice", {"value": kind})])
    if customer_id == related_id:
        raise ValidationFailed([FieldError("related", "validation.self_relation", {})])
    with crm.db.write() as session:
        load_in_scope(session, actor, customer_id)
        load_in_scope(session, actor, related_id)
        row = Relationship(customer_id=customer_id, related_id=related_id, kind=kind,
                           note=note[:200])
        session.add(row)
        session.flush()
        audit.record(crm.db, session, actor, "relationship.add", "customer", customer_id, None,
                     {"related_id": related_id, "kind": kind})
        return row.id or 0

"""Reviewing a policy change before it is approved: what changes in words, its impact on
today's data (customers re-tagged, pending requests that would climb another chain, the
assignment and SLA rules that change), and the history of every version.

The impact is measured by running the new tag rules inside a transaction that is rolled
back, so the figures are the database's own, not an estimate, and nothing is kept.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlmodel import Session

from crm_tui.domain.customers.tags import evaluate_rule_tags
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import NotFound
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.validation import from_fen
from crm_tui.domain.policy.diff import PolicyChange, policy_diff
from crm_tui.domain.policy.document import Policy, active_policy_text, parse_policy
from crm_tui.store.models import PolicyVersion, Staff
from crm_tui.store.models_compliance import ApprovalDecision, ApprovalRequest

RULE_SECTIONS = ("sales", "service")
"""Sections whose changes reroute work (lead assignment, SLAs), listed on their own."""


@dataclass(frozen=True)
class PolicyImpact:
    changes: tuple[PolicyChange, ...]
    retagged_customers: int
    rerouted_requests: int
    rule_changes: tuple[PolicyChange, ...]


@dataclass(frozen=True)
class ReviewText:
    """What a reviewer reads in the approval detail of a configuration change: one line per
    change (catalog key and parameters, translated by the screen as `crm policy diff`
    prints them) and the measured impact stored when the request was made."""

    changes: tuple[tuple[str, dict[str, Any]], ...]
    rule_changes: tuple[tuple[str, dict[str, Any]], ...] = ()
    impact: tuple[tuple[str, dict[str, Any]], ...] = ()


def review_of(kind: str, display: dict[str, Any]) -> ReviewText | None:
    """The review text of a stored request's display, for a policy change or a field
    definition (None for the other kinds)."""
    if kind == "policy_change":
        changes = tuple((str(k), dict(p)) for k, p in display.get("policy_changes", []))
        rules = tuple((str(k), dict(p)) for k, p in display.get("policy_rule_changes", []))
        measured = display.get("impact") or {}
        impact = tuple((f"policy.impact.{name}", {"n": measured[field]}) for name, field in (
            ("retagged", "retagged_customers"), ("rerouted", "rerouted_requests"))
            if field in measured)
        if "rule_changes" in measured:
            impact += (("policy.impact.rules", {"n": measured["rule_changes"]}),)
        return ReviewText(changes, rules, impact)
    if kind == "field_definition":
        return ReviewText(tuple((str(k), dict(p)) for k, p in display.get("words", [])))
    return None


@dataclass(frozen=True)
class PolicyVersionView:
    id: int
    applied_at: datetime
    applied_by: str
    active: bool
    proposed_by: str
    approved_by: tuple[str, ...]
    request_id: int | None


def changes_between(old_text: str, new_text: str) -> list[PolicyChange]:
    return policy_diff(parse_policy(old_text), parse_policy(new_text))


RULE_TAGS = ("SELECT ct.customer_id, t.name FROM customer_tag ct JOIN tag t ON t.id = ct.tag_id "
             "WHERE ct.source = 'rule'")


def _retagged(session: Session, new: Policy) -> int:
    """Customers whose rule tags differ under `new` (call in a transaction rolled back)."""
    name = "dry_tags_" + uuid.uuid4().hex[:8]
    session.execute(text(f"CREATE TEMPORARY TABLE {name} AS {RULE_TAGS}"))
    evaluate_rule_tags(session, new)
    before = f"SELECT customer_id, name FROM {name}"
    return session.execute(text(
        f"SELECT COUNT(DISTINCT customer_id) FROM ("
        f"SELECT customer_id FROM ({before} EXCEPT {RULE_TAGS}) AS gone UNION ALL "
        f"SELECT customer_id FROM ({RULE_TAGS} EXCEPT {before}) AS came) AS moved")).scalar_one()


def _roles(levels: list) -> list[str]:  # type: ignore[type-arg]
    return [lv.role if hasattr(lv, "role") else lv["role"] for lv in levels]


def _rerouted(session: Session, old: Policy, new: Policy) -> int:
    """Pending requests whose chain of roles would differ under the new policy."""
    count = 0
    pending = session.scalars(select(ApprovalRequest).where(ApprovalRequest.status == "pending"))
    for req in pending:
        if req.kind == "large_transaction":
            data = (req.payload or {}).get("data", {})
            amount = from_fen(int(data.get("amount_fen", 0)))
            currency = str(data.get("currency", "CNY"))
            before = old.approvals.chain_for(Decimal(amount), currency) or []
            after = new.approvals.chain_for(Decimal(amount), currency) or []
            count += _roles(before) != _roles(after)
        elif req.kind in ("sensitive_change", "custom_field_change"):
            count += (_roles(old.approvals.sensitive_change_levels)
                      != _roles(new.approvals.sensitive_change_levels))
        elif req.kind in ("policy_change", "field_definition"):
            count += (_roles(old.approvals.policy_change_levels)
                      != _roles(new.approvals.policy_change_levels))
    return count


def policy_impact(crm: Crm, actor: Actor, new_text: str) -> PolicyImpact:
    """What applying `new_text` would change, measured and then rolled back."""
    if not _reviewer(actor):
        require(actor, Perm.POLICY_APPLY)
    new = parse_policy(new_text)
    old = parse_policy(active_policy_text(crm.db))
    changes = tuple(policy_diff(old, new))
    with Session(crm.db.write_engine) as session:
        try:
            retagged = _retagged(session, new)
            rerouted = _rerouted(session, old, new)
        finally:
            session.rollback()
    rules = tuple(c for c in changes if c.section in RULE_SECTIONS)
    return PolicyImpact(changes, retagged, rerouted, rules)


def _reviewer(actor: Actor) -> bool:
    from crm_tui.domain.kernel.permissions import can

    return can(actor, Perm.APPROVAL_DECIDE) or can(actor, Perm.AUDIT_VIEW)


def policy_history(crm: Crm, actor: Actor) -> list[PolicyVersionView]:
    """Every stored version, newest first, with who proposed and who approved it."""
    if not _reviewer(actor):
        require(actor, Perm.POLICY_APPLY)
    with crm.db.read() as session:
        versions = session.execute(
            select(PolicyVersion, Staff.username).outerjoin(Staff, Staff.id == PolicyVersion.applied_by)
            .order_by(PolicyVersion.id.desc())).all()
        requests = session.scalars(select(ApprovalRequest).where(
            ApprovalRequest.kind == "policy_change", ApprovalRequest.status == "approved")).all()
        by_text = {str((r.payload or {}).get("data", {}).get("text")): r for r in requests}
        deciders: dict[int, list[str]] = {}
        if requests:
            rows = session.execute(
                select(ApprovalDecision.request_id, Staff.username)
                .join(Staff, Staff.id == ApprovalDecision.decider_id)
                .where(ApprovalDecision.request_id.in_([r.id for r in requests]),  # type: ignore[union-attr]
                       ApprovalDecision.decision == "approved")
                .order_by(ApprovalDecision.level)).all()
            for rid, name in rows:
                deciders.setdefault(rid, []).append(name)
    out = []
    for v, username in versions:
        req = by_text.get(v.body)
        out.append(PolicyVersionView(
            id=v.id or 0, applied_at=v.applied_at, applied_by=username or "system",
            active=v.active, proposed_by=req.maker_name if req else (username or "system"),
            approved_by=tuple(deciders.get(req.id or 0, ())) if req else (),
            request_id=req.id if req else None))
    return out


def policy_version_text(crm: Crm, actor: Actor, version_id: int) -> str:
    if not _reviewer(actor):
        require(actor, Perm.POLICY_APPLY)
    with crm.db.read() as session:
        row = session.get(PolicyVersion, version_id)
    if row is None:
        raise NotFound("policy.error.no_version", id=version_id)
    return row.body

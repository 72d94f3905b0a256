"""Showing, validating, proposing and applying the policy.

A new policy takes effect only through an approval request (`propose_policy_text`) that a
compliance officer approves; the approval activates it, re-tags everyone and writes the
audit event in one transaction. `apply_policy_text` applies at once and exists for set-up
code and tests that need a policy in place without a second person.
"""

from __future__ import annotations

import difflib
import hashlib
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session

from crm_tui.domain.compliance import approvals
from crm_tui.domain.customers.tags import evaluate_rule_tags
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.policy.document import (
    Policy,
    activate_policy,
    active_policy_text,
    default_policy_text,
    load_policy_file,
    parse_policy,
)
from crm_tui.store.models import PolicyVersion
from crm_tui.store.models_compliance import ApprovalRequest

KIND = "policy_change"


def show_policy(crm: Crm) -> str:
    return active_policy_text(crm.db)


def validate_policy_file(path: Path) -> Policy:
    return load_policy_file(path)[1]


def _diff(old: str, new: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                        "active", "new", n=1))[:20000]


def _activate(crm: Crm, session: Session, actor: Actor, text: str, old: str,
              request_id: int | None = None) -> dict[str, int]:
    policy = parse_policy(text)
    row = activate_policy(crm.db, session, actor, text)
    counts = evaluate_rule_tags(session, policy)
    audit.record(crm.db, session, actor, "policy.apply", "policy", row.id, None,
                 {"diff": _diff(old, text), "rule_tags": counts, "request": request_id})
    return counts


def apply_policy_text(crm: Crm, actor: Actor, text: str) -> dict[str, int]:
    """Make `text` the active policy now (set-up and tests; people use `propose_*`)."""
    require(actor, Perm.POLICY_APPLY)
    parse_policy(text)
    old = active_policy_text(crm.db)
    with crm.db.write() as session:
        counts = _activate(crm, session, actor, text, old)
    crm.forget_policy()
    return counts


def apply_policy_file(crm: Crm, actor: Actor, path: Path) -> dict[str, int]:
    """Direct apply of a file (set-up and tests); `crm policy apply` proposes instead."""
    text, _ = load_policy_file(path)
    return apply_policy_text(crm, actor, text)


def _active_text(session: Session) -> str:
    """The active policy as this transaction sees it."""
    body = session.scalars(select(PolicyVersion.body).where(PolicyVersion.active)  # type: ignore[arg-type]
                           .order_by(PolicyVersion.id.desc()).limit(1)).first()  # type: ignore[union-attr]
    return body if body is not None else default_policy_text()


def _fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def propose_policy_text(crm: Crm, actor: Actor, text: str, now: datetime | None = None) -> int:
    """Validate `text` and open a policy-change request for compliance; returns its id.
    Approval is refused as stale if the active policy changes in the meantime."""
    require(actor, Perm.POLICY_APPLY)
    parse_policy(text)
    old = active_policy_text(crm.db)
    levels = crm.policy().approvals.policy_change_levels
    from crm_tui.domain.compliance.policy_review import policy_impact

    impact = policy_impact(crm, actor, text)
    with crm.db.write() as session:
        req = approvals.open_request(
            crm, session, actor, kind=KIND, target_entity="policy", target_id="active",
            target_version=_fingerprint(old), levels=levels,
            display={"summary": ["compliance.summary.policy_change", {}],
                     "diff": _diff(old, text), "changes": [],
                     "policy_changes": [[c.key, c.params] for c in impact.changes],
                     "policy_rule_changes": [[c.key, c.params] for c in impact.rule_changes],
                     "impact": {"retagged_customers": impact.retagged_customers,
                                "rerouted_requests": impact.rerouted_requests,
                                "rule_changes": len(impact.rule_changes)}},
            data={"text": text}, now=now,
        )
        return req.id or 0


def propose_policy_file(crm: Crm, actor: Actor, path: Path, now: datetime | None = None) -> int:
    text, _ = load_policy_file(path)
    return propose_policy_text(crm, actor, text, now)


class _Handler:
    def current_version(self, crm: Crm, session: Session, req: ApprovalRequest) -> str:
        return _fingerprint(_active_text(session))

    def check_applicable(self, crm: Crm, session: Session, req: ApprovalRequest,
                         now: datetime) -> None:
        parse_policy(req.payload["data"]["text"])

    def apply(self, crm: Crm, session: Session, req: ApprovalRequest, actor: Actor,
              now: datetime) -> str:
        text = req.payload["data"]["text"]
        _activate(crm, session, actor, text, _active_text(session), req.id)
        return "policy:active"


approvals.register(KIND, _Handler())

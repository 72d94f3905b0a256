"""Showing, validating and applying the policy. Applying is audited and re-tags everyone."""

from __future__ import annotations

import difflib
from pathlib import Path

from crm_tui.domain import audit
from crm_tui.domain.actor import Actor
from crm_tui.domain.context import Crm
from crm_tui.domain.permissions import Perm, require
from crm_tui.domain.policy import (
    Policy,
    activate_policy,
    active_policy_text,
    load_policy_file,
    parse_policy,
)
from crm_tui.domain.tags import evaluate_rule_tags


def show_policy(crm: Crm) -> str:
    return active_policy_text(crm.db)


def validate_policy_file(path: Path) -> Policy:
    return load_policy_file(path)[1]


def apply_policy_text(crm: Crm, actor: Actor, text: str) -> dict[str, int]:
    """Make `text` the active policy and re-evaluate rule tags, in one transaction."""
    require(actor, Perm.POLICY_APPLY)
    policy = parse_policy(text)
    old = active_policy_text(crm.db)
    with crm.db.write() as session:
        row = activate_policy(crm.db, session, actor, text)
        counts = evaluate_rule_tags(session, policy)
        diff = "".join(difflib.unified_diff(old.splitlines(True), text.splitlines(True),
                                            "active", "new", n=1))
        audit.record(crm.db, session, actor, "policy.apply", "policy", row.id, None,
                     {"diff": diff[:20000], "rule_tags": counts})
    crm.forget_policy()
    return counts


def apply_policy_file(crm: Crm, actor: Actor, path: Path) -> dict[str, int]:
    text, _ = load_policy_file(path)
    return apply_policy_text(crm, actor, text)

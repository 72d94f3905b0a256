"""Maker-checker for access to personal data: granting a PII-seeing role (a new account or a
role change) and resetting the password of someone who holds one.

An admin sees no PII, so an admin alone must not be able to make an account that does (or
take one over by resetting its password and signing in). Once a compliance officer exists,
these changes wait in an approval request (kind `staff_grant`) that compliance decides; a new
account waits disabled. Applying bumps the staff member's session epoch, so any old sign-in
ends on its next action. Before the first compliance officer exists (set-up), admin applies
directly, audited, as before.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlmodel import Session

from crm_tui.domain.admin import staff
from crm_tui.domain.admin.auth import hash_password
from crm_tui.domain.compliance import approvals
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.permissions import ROLES, Perm, require
from crm_tui.domain.policy.document import ApprovalLevelSpec
from crm_tui.store.models import Staff
from crm_tui.store.models_compliance import ApprovalRequest

KIND = "staff_grant"
LEVELS = [ApprovalLevelSpec(role="compliance", scope="any")]


def _version(s: Staff) -> str:
    raw = f"{s.role}|{s.active}|{s.session_epoch}|{s.password_hash}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _open(crm: Crm, session: Session, actor: Actor, s: Staff, action: str, summary: str,
          params: dict[str, Any], data: dict[str, Any], now: datetime | None) -> int:
    req = approvals.open_request(
        crm, session, actor, kind=KIND, target_entity="staff", target_id=s.id,
        target_version=_version(s), levels=LEVELS,
        display={"summary": [summary, params], "changes": []},
        data={"action": action, "staff_id": s.id, **data}, now=now)
    return req.id or 0


def add_user(crm: Crm, actor: Actor, username: str, display_name: str, role: str,
             password: str, branch_code: str | None = None, team: str | None = None,
             now: datetime | None = None) -> tuple[int, int | None]:
    """Add an account: at once, or (PII role, decider present) disabled with a request.
    Returns (staff id, request id or None)."""
    require(actor, Perm.STAFF_MANAGE)
    staff.validate_new_user(username, role)
    pw_hash = hash_password(password)
    with crm.db.write() as session:
        pending = staff.needs_four_eyes(session, role)
        sid = staff.insert_user(crm, session, actor, username, display_name, role, pw_hash,
                                branch_code, team, pending=pending)
        if not pending:
            return sid, None
        s = session.get(Staff, sid)
        assert s is not None
        return sid, _open(crm, session, actor, s, "activate", "staff_grant.summary.add",
                          {"username": username, "role": role}, {"role": role}, now)


def set_role(crm: Crm, actor: Actor, username: str, role: str,
             now: datetime | None = None) -> int | None:
    """Change a role: at once, or (PII role, decider present) through a request (its id)."""
    require(actor, Perm.STAFF_MANAGE)
    with crm.db.read() as session:
        needs = staff.needs_four_eyes(session, role)
    if not needs or role not in ROLES:
        staff.set_role(crm, actor, username, role)
        return None
    with crm.db.write() as session:
        s = staff.get_staff(session, username)
        if s.role == role:
            return None
        return _open(crm, session, actor, s, "role", "staff_grant.summary.role",
                     {"username": username, "role": role, "before": s.role}, {"role": role}, now)


def set_password(crm: Crm, actor: Actor, username: str, password: str,
                 now: datetime | None = None) -> int | None:
    """Reset a password: at once, or (PII-seeing user, decider present) through a request.
    The request holds only the argon2 hash, never the password."""
    require(actor, Perm.STAFF_MANAGE)
    pw_hash = hash_password(password)
    with crm.db.write() as session:
        s = staff.get_staff(session, username)
        if not staff.needs_four_eyes(session, s.role):
            staff.apply_password(crm, session, actor, s, pw_hash)
            return None
        return _open(crm, session, actor, s, "password", "staff_grant.summary.password",
                     {"username": username, "role": s.role}, {"password_hash": pw_hash}, now)


class _Handler:
    def current_version(self, crm: Crm, session: Session, req: ApprovalRequest) -> str:
        s = session.get(Staff, int(req.target_id))
        return _version(s) if s is not None else "gone"

    def check_applicable(self, crm: Crm, session: Session, req: ApprovalRequest,
                         now: datetime) -> None:
        return None

    def apply(self, crm: Crm, session: Session, req: ApprovalRequest, actor: Actor,
              now: datetime) -> str:
        data = req.payload["data"]
        s = session.get(Staff, int(data["staff_id"]))
        assert s is not None  # current_version said "gone" otherwise: the request is stale
        if data["action"] == "password":
            staff.apply_password(crm, session, actor, s, data["password_hash"], req.id)
        else:
            staff.apply_role(crm, session, actor, s, data["role"], req.id,
                             activate=data["action"] == "activate")
        return f"staff:{s.id}"


approvals.register(KIND, _Handler())

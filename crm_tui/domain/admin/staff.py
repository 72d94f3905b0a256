"""Staff accounts: add, list, disable, reset a password, change a role. Admin only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from crm_tui.domain.admin.auth import hash_password
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import DomainError, FieldError, NotFound, ValidationFailed
from crm_tui.domain.kernel.permissions import MATRIX, ROLES, Perm, Role, require
from crm_tui.store.models import Branch, Staff, Team

_USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{1,49}$")

# Roles that may reveal personal data: granting one, or resetting the password of someone who
# holds one, needs a second person (compliance.staff_grants) once a decider exists.
PII_ROLES = frozenset(r.value for r, perms in MATRIX.items() if Perm.SENSITIVE_REVEAL in perms)
DECIDER_ROLES = (Role.COMPLIANCE.value,)


class FourEyesRequired(DomainError):
    """Granting a PII-seeing role or resetting such a user's password needs an approval."""

    key = "staff.error.four_eyes"


def deciders_exist(session: Session) -> bool:
    """A compliance officer can decide grants; before the first exists (set-up), admin may."""
    return bool(session.scalar(select(Staff.id).where(Staff.active.is_(True),  # type: ignore[attr-defined]
                                                      Staff.role.in_(DECIDER_ROLES)).limit(1)))  # type: ignore[attr-defined]


def needs_four_eyes(session: Session, role: str) -> bool:
    return role in PII_ROLES and deciders_exist(session)


def revoke_sessions(s: Staff) -> None:
    """Every sign-in of this staff member made before now stops working on its next action."""
    s.session_epoch = (s.session_epoch or 0) + 1


@dataclass(frozen=True)
class StaffView:
    id: int
    username: str
    display_name: str
    role: str
    branch: str
    team: str
    active: bool
    locked_until: datetime | None
    last_login_at: datetime | None


def _branch_id(session: Session, code: str | None) -> int | None:
    if not code:
        return None
    bid = session.scalar(select(Branch.id).where(Branch.code == code))
    if bid is None:
        raise ValidationFailed([FieldError("branch", "validation.unknown_branch", {"code": code})])
    return bid


def _team_id(session: Session, name: str | None, branch_id: int | None) -> int | None:
    if not name:
        return None
    q = select(Team.id).where(Team.name == name)
    if branch_id:
        q = q.where(Team.branch_id == branch_id)
    tid = session.scalar(q)
    if tid is None:
        raise ValidationFailed([FieldError("team", "validation.unknown_team", {"name": name})])
    return tid


def _get(session: Session, username: str) -> Staff:
    s = session.scalars(select(Staff).where(Staff.username == username)).first()
    if s is None:
        raise NotFound("error.user_not_found", username=username)
    return s


def add_user(crm: Crm, actor: Actor, username: str, display_name: str, role: str,
             password: str, branch_code: str | None = None, team: str | None = None, *,
             pending: bool = False) -> int:
    """Add a staff member. A PII-seeing role is refused here once a decider exists: use
    `compliance.staff_grants.propose_user` (the account waits, disabled, for approval)."""
    require(actor, Perm.STAFF_MANAGE)
    validate_new_user(username, role)
    pw_hash = hash_password(password)
    with crm.db.write() as session:
        return insert_user(crm, session, actor, username, display_name, role, pw_hash,
                           branch_code, team, pending=pending)


def validate_new_user(username: str, role: str) -> None:
    """The user name's form and the role, before anything is asked or stored."""
    errors = []
    if not _USERNAME.match(username):
        errors.append(FieldError("username", "validation.username", {}))
    if role not in ROLES:
        errors.append(FieldError("role", "validation.role", {"value": role,
                                                             "roles": ", ".join(ROLES)}))
    if errors:
        raise ValidationFailed(errors)


def insert_user(crm: Crm, session: Session, actor: Actor, username: str, display_name: str,
                role: str, pw_hash: str, branch_code: str | None, team: str | None, *,
                pending: bool = False) -> int:
    """The insert inside the caller's transaction; `pending` leaves it disabled until approved."""
    if not pending and needs_four_eyes(session, role):
        raise FourEyesRequired("staff.error.four_eyes", role=role)
    if session.scalar(select(Staff.id).where(Staff.username == username)):
        raise ValidationFailed([FieldError("username", "validation.username_taken",
                                           {"username": username})])
    branch_id = _branch_id(session, branch_code)
    s = Staff(username=username, display_name=display_name or username, role=role,
              branch_id=branch_id, team_id=_team_id(session, team, branch_id),
              password_hash=pw_hash, active=not pending)
    session.add(s)
    session.flush()
    audit.record(crm.db, session, actor, "staff.add", "staff", s.id, None,
                 {"username": username, "role": role, "branch": branch_code, "team": team,
                  "pending_approval": pending})
    return s.id or 0


def get_staff(session: Session, username: str) -> Staff:
    return _get(session, username)


def list_users(crm: Crm, actor: Actor) -> list[StaffView]:
    require(actor, Perm.STAFF_MANAGE)
    with crm.db.read() as session:
        rows = session.execute(
            select(Staff, Branch.code, Team.name)
            .outerjoin(Branch, Branch.id == Staff.branch_id)
            .outerjoin(Team, Team.id == Staff.team_id)
            .order_by(Staff.username)
        ).all()
    return [StaffView(s.id or 0, s.username, s.display_name, s.role, b or "", t or "", s.active,
                      s.locked_until, s.last_login_at) for s, b, t in rows]


def workplace(crm: Crm, actor: Actor) -> tuple[str, str]:
    """The names of the actor's own branch and team, for the signed-in status line."""
    if actor.id is None:
        return "", ""
    with crm.db.read() as session:
        row = session.execute(
            select(Branch.name, Team.name)
            .select_from(Staff)
            .outerjoin(Branch, Branch.id == Staff.branch_id)
            .outerjoin(Team, Team.id == Staff.team_id)
            .where(Staff.id == actor.id)
        ).first()
    return (row[0] or "", row[1] or "") if row else ("", "")


def disable_user(crm: Crm, actor: Actor, username: str) -> None:
    require(actor, Perm.STAFF_MANAGE)
    with crm.db.write() as session:
        s = _get(session, username)
        if s.active:
            s.active = False
            revoke_sessions(s)
            session.add(s)
            audit.record(crm.db, session, actor, "staff.disable", "staff", s.id,
                         {"active": True}, {"active": False})


def set_password(crm: Crm, actor: Actor, username: str, password: str) -> None:
    require(actor, Perm.STAFF_MANAGE)
    pw_hash = hash_password(password)
    with crm.db.write() as session:
        s = _get(session, username)
        if needs_four_eyes(session, s.role):
            raise FourEyesRequired("staff.error.four_eyes_password", username=username)
        apply_password(crm, session, actor, s, pw_hash)


def apply_password(crm: Crm, session: Session, actor: Actor, s: Staff, pw_hash: str,
                   request_id: int | None = None) -> None:
    s.password_hash = pw_hash
    s.failed_logins = 0
    s.locked_until = None
    revoke_sessions(s)
    session.add(s)
    audit.record(crm.db, session, actor, "staff.passwd", "staff", s.id, None,
                 {"password": "(changed)", "unlocked": True, "request": request_id})


def set_role(crm: Crm, actor: Actor, username: str, role: str) -> None:
    require(actor, Perm.STAFF_MANAGE)
    if role not in ROLES:
        raise ValidationFailed([FieldError("role", "validation.role",
                                           {"value": role, "roles": ", ".join(ROLES)})])
    with crm.db.write() as session:
        s = _get(session, username)
        if s.role != role:
            if needs_four_eyes(session, role):
                raise FourEyesRequired("staff.error.four_eyes", role=role)
            apply_role(crm, session, actor, s, role)


def apply_role(crm: Crm, session: Session, actor: Actor, s: Staff, role: str,
               request_id: int | None = None, *, activate: bool = False) -> None:
    before = {"role": s.role, "active": s.active}
    s.role = role
    if activate:
        s.active = True
    revoke_sessions(s)
    session.add(s)
    audit.record(crm.db, session, actor, "staff.set_role", "staff", s.id, before,
                 {"role": role, "active": s.active, "request": request_id})

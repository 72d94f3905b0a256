"""Passwords (argon2id), login with lockout, and the idle-lock check. All audited."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import case, or_, select, update
from sqlmodel import Session

from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import AccountLocked, AuthFailed, FieldError, ValidationFailed
from crm_tui.store.models import Staff
from crm_tui.store.types import utcnow

MIN_PASSWORD = 8


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with the library's current recommended costs


def hash_password(password: str) -> str:
    check_password_strength(password)
    return _hasher().hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed([FieldError("password", "validation.password_short",
                                           {"min": MIN_PASSWORD})])


@cache
def _dummy_hash() -> str:
    """A hash to verify against when the name is unknown: the same argon2 work either way,
    so the answer's timing does not say which user names exist."""
    return _hasher().hash("crm-tui timing equaliser")


def _verify(hash_: str, password: str) -> bool:
    try:
        return _hasher().verify(hash_, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def actor_of(s: Staff) -> Actor:
    return Actor(id=s.id, username=s.username, display_name=s.display_name, role=s.role,
                 branch_id=s.branch_id, team_id=s.team_id, team_visibility=s.team_visibility,
                 session_epoch=s.session_epoch or 0)


def _anonymous(username: str) -> Actor:
    return Actor(id=None, username=username[:100] or "?", display_name="", role="")


def login(crm: Crm, username: str, password: str) -> Actor:
    """The Actor for good credentials. Five failures lock the account for 30 minutes.

    An unknown user and a wrong password get the same answer, so names cannot be probed.
    """
    limit = crm.settings.max_failed_logins
    now = utcnow()
    with crm.db.write() as session:
        staff = session.scalars(select(Staff).where(Staff.username == username)).first()
        if staff is None or not staff.active:
            _verify(_dummy_hash(), password)
            audit.record(crm.db, session, _anonymous(username), "auth.login_failed", "staff",
                         staff.id if staff else "", None,
                         {"reason": "unknown" if staff is None else "disabled"})
            failure: Exception = AuthFailed()
        elif staff.locked_until and staff.locked_until > now:
            audit.record(crm.db, session, actor_of(staff), "auth.login_refused_locked", "staff",
                         staff.id, None, {"locked_until": staff.locked_until})
            failure = AccountLocked(until=staff.locked_until.astimezone(crm.tz)
                                    .strftime("%Y-%m-%d %H:%M"))
        elif not _verify(staff.password_hash, password):
            failure = _count_failure(crm, session, staff, limit, now)
        else:
            staff.failed_logins = 0
            staff.locked_until = None
            staff.last_login_at = now
            session.add(staff)
            audit.record(crm.db, session, actor_of(staff), "auth.login", "staff", staff.id)
            return actor_of(staff)
    raise failure


def _count_failure(crm: Crm, session: Session, staff: Staff, limit: int, now: datetime) -> Exception:
    """Count a wrong password and lock at the limit in ONE statement: concurrent attempts
    (threads, processes, PostgreSQL sessions) serialise on the row, none is lost."""
    until = now + timedelta(minutes=crm.settings.lockout_minutes)
    reaches = Staff.failed_logins + 1 >= limit
    row = session.execute(
        update(Staff)
        .where(Staff.id == staff.id,
               or_(Staff.locked_until.is_(None), Staff.locked_until <= now))  # type: ignore[union-attr, operator]
        .values(failed_logins=case((reaches, 0), else_=Staff.failed_logins + 1),
                locked_until=case((reaches, until), else_=Staff.locked_until))
        .returning(Staff.failed_logins, Staff.locked_until)
        .execution_options(synchronize_session=False)
    ).first()
    session.expire(staff)
    actor = actor_of(staff)
    if row is None:  # another attempt locked it a moment ago
        return AccountLocked(until=until.astimezone(crm.tz).strftime("%Y-%m-%d %H:%M"))
    failed, locked_until = row
    if locked_until is not None and locked_until > now:
        audit.record(crm.db, session, actor, "auth.locked", "staff", staff.id, None,
                     {"failed_logins": limit, "locked_until": locked_until})
        return AccountLocked(until=locked_until.astimezone(crm.tz).strftime("%Y-%m-%d %H:%M"))
    audit.record(crm.db, session, actor, "auth.login_failed", "staff", staff.id, None,
                 {"failed_logins": failed})
    return AuthFailed()


def unlock_session(crm: Crm, actor: Actor, password: str) -> Actor:
    """The idle lock asks for the same password again; failures count toward lockout."""
    return login(crm, actor.username, password)


def record_idle_lock(crm: Crm, actor: Actor, *, manual: bool = False) -> None:
    """The screen locked: by the idle timer (`auth.idle_lock`) or by Ctrl+L
    (`auth.manual_lock`)."""
    with crm.db.write() as session:
        audit.record(crm.db, session, actor, "auth.manual_lock" if manual else "auth.idle_lock",
                     "staff", actor.id, check_session=False)


def logout(crm: Crm, actor: Actor) -> None:
    with crm.db.write() as session:
        audit.record(crm.db, session, actor, "auth.logout", "staff", actor.id,
                     check_session=False)

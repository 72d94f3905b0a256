"""Key identity for the SSH front door: staff public keys, and signing in by key.

A key is known by its SHA256 fingerprint (as `ssh-keygen -l` prints it), which is unique
across the bank: one key opens one account. `key_matches` is the stateless check the
gateway runs for every key a client offers (asyncssh also asks for unsigned probes), so it
reads and never writes; `sign_in_by_key` runs once the client has proved it holds the
private key, and is audited with the key's fingerprint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from crm_tui.domain.admin.auth import actor_of
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import AccountLocked, AuthFailed, FieldError, NotFound, ValidationFailed
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.store.db import retry_transaction
from crm_tui.store.models import Staff
from crm_tui.store.models_ssh import StaffKey
from crm_tui.store.types import utcnow

# Modern key types only; RSA below 3072 bits and DSA are refused.
KEY_ALGORITHMS = ("ssh-ed25519", "sk-ssh-ed25519@openssh.com", "ecdsa-sha2-nistp256",
                  "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa")
MIN_RSA_BITS = 3072
MAX_KEY_TEXT = 16_384


@dataclass(frozen=True)
class ParsedKey:
    algorithm: str
    fingerprint: str
    public_key: str  # "alg base64" without the comment
    comment: str


@dataclass(frozen=True)
class KeyView:
    id: int
    username: str
    fingerprint: str
    algorithm: str
    comment: str
    added_at: datetime
    last_used_at: datetime | None


def _bad(key: str, **params: object) -> ValidationFailed:
    return ValidationFailed([FieldError("ssh_key", key, dict(params))])


def parse_public_key(text: str) -> ParsedKey:
    """One OpenSSH public key line (as in `id_ed25519.pub`), checked and fingerprinted."""
    import asyncssh

    text = (text or "").strip()
    if not text or len(text) > MAX_KEY_TEXT or "\n" in text:
        raise _bad("validation.ssh_key_one_line")
    try:
        key = asyncssh.import_public_key(text)
    except (asyncssh.KeyImportError, ValueError):
        raise _bad("validation.ssh_key_unreadable") from None
    alg = key.get_algorithm()
    if alg not in KEY_ALGORITHMS:
        raise _bad("validation.ssh_key_algorithm", algorithm=alg)
    if alg == "ssh-rsa":
        bits = key.pyca_key.key_size if hasattr(key, "pyca_key") else 0
        if bits < MIN_RSA_BITS:
            raise _bad("validation.ssh_key_rsa_short", bits=bits, min=MIN_RSA_BITS)
    body = key.export_public_key("openssh").decode().split()
    return ParsedKey(alg, key.get_fingerprint("sha256"), f"{body[0]} {body[1]}",
                     (key.get_comment() or "")[:200])


def fingerprint_of(public_key: object) -> str:
    """The SHA256 fingerprint of an asyncssh key object or an OpenSSH key line."""
    if isinstance(public_key, str):
        return parse_public_key(public_key).fingerprint
    return public_key.get_fingerprint("sha256")  # type: ignore[attr-defined]


def _staff(session, username: str) -> Staff:  # type: ignore[no-untyped-def]
    s = session.scalars(select(Staff).where(Staff.username == username)).first()
    if s is None:
        raise NotFound("error.user_not_found", username=username)
    return s


def add_key(crm: Crm, actor: Actor, username: str, key_text: str) -> KeyView:
    require(actor, Perm.STAFF_MANAGE)
    parsed = parse_public_key(key_text)
    with crm.db.write() as session:
        s = _staff(session, username)
        owner = session.execute(select(Staff.username).join(StaffKey, StaffKey.staff_id == Staff.id)
                                .where(StaffKey.fingerprint == parsed.fingerprint)).scalar()
        if owner is not None:
            raise _bad("validation.ssh_key_taken", fingerprint=parsed.fingerprint, username=owner)
        row = StaffKey(staff_id=s.id or 0, fingerprint=parsed.fingerprint,
                       algorithm=parsed.algorithm, public_key=parsed.public_key,
                       comment=parsed.comment)
        session.add(row)
        session.flush()
        audit.record(crm.db, session, actor, "ssh.key_add", "staff", s.id, None,
                     {"fingerprint": parsed.fingerprint, "algorithm": parsed.algorithm,
                      "comment": parsed.comment})
        return KeyView(row.id or 0, s.username, row.fingerprint, row.algorithm, row.comment,
                       row.added_at, None)


def remove_key(crm: Crm, actor: Actor, username: str, fingerprint: str) -> None:
    require(actor, Perm.STAFF_MANAGE)
    with crm.db.write() as session:
        s = _staff(session, username)
        key_id = session.scalar(select(StaffKey.id).where(StaffKey.staff_id == s.id,
                                                          StaffKey.fingerprint == fingerprint))
        if key_id is None:
            raise NotFound("error.ssh_key_not_found", username=username, fingerprint=fingerprint)
        # Sessions keep their fingerprint (text) for the record; the link to the row goes.
        from crm_tui.store.models_ssh import SshSession

        session.execute(update(SshSession).where(SshSession.key_id == key_id).values(key_id=None))
        session.execute(delete(StaffKey).where(StaffKey.id == key_id))
        audit.record(crm.db, session, actor, "ssh.key_remove", "staff", s.id,
                     {"fingerprint": fingerprint}, None)


def list_keys(crm: Crm, actor: Actor, username: str | None = None) -> list[KeyView]:
    require(actor, Perm.STAFF_MANAGE)
    with crm.db.read() as session:
        q = (select(StaffKey, Staff.username).join(Staff, Staff.id == StaffKey.staff_id)
             .order_by(Staff.username, StaffKey.id))
        if username:
            _staff(session, username)
            q = q.where(Staff.username == username)
        rows = session.execute(q).all()
    return [KeyView(k.id or 0, u, k.fingerprint, k.algorithm, k.comment, k.added_at,
                    k.last_used_at) for k, u in rows]


def key_matches(crm: Crm, username: str, fingerprint: str) -> bool:
    """Whether `fingerprint` is registered to `username`. Read-only and cheap: asyncssh asks
    this for every key a client offers, signed or not."""
    with crm.db.read() as session:
        return session.scalar(
            select(StaffKey.id).join(Staff, Staff.id == StaffKey.staff_id)
            .where(Staff.username == username, StaffKey.fingerprint == fingerprint)
        ) is not None


@retry_transaction
def sign_in_by_key(crm: Crm, username: str, fingerprint: str, peer: str) -> Actor:
    """The Actor for a client that proved it holds the key `fingerprint`, for `username`.

    Refused (and audited): a key not registered, a key registered to someone else, a
    disabled account, a locked one. The gateway has checked the signature; this decides
    whether the key still opens the account now.
    """
    now = utcnow()
    with crm.db.write() as session:
        row = session.execute(select(StaffKey, Staff).join(Staff, Staff.id == StaffKey.staff_id)
                              .where(StaffKey.fingerprint == fingerprint)).first()
        failure: Exception
        who = session.scalars(select(Staff).where(Staff.username == username)).first()
        subject = actor_of(who) if who else Actor(id=None, username=username[:100] or "?",
                                                  display_name="", role="")
        detail = {"fingerprint": fingerprint, "peer": peer}
        if row is None or row[1].username != username:
            audit.record(crm.db, session, subject, "auth.ssh_refused", "staff",
                         who.id if who else "", None,
                         {**detail, "reason": "unknown_key" if row is None else "other_users_key"},
                         check_session=False)  # a refusal is recorded whoever is refused
            failure = AuthFailed("error.ssh_key_not_registered", username=username)
        else:
            key, staff = row
            if not staff.active:
                audit.record(crm.db, session, subject, "auth.ssh_refused", "staff", staff.id, None,
                             {**detail, "reason": "disabled"}, check_session=False)
                failure = AuthFailed("error.account_disabled", username=username)
            elif staff.locked_until and staff.locked_until > now:
                audit.record(crm.db, session, subject, "auth.ssh_refused", "staff", staff.id, None,
                             {**detail, "reason": "locked", "locked_until": staff.locked_until},
                             check_session=False)
                failure = AccountLocked(until=staff.locked_until.astimezone(crm.tz)
                                        .strftime("%Y-%m-%d %H:%M"))
            else:
                key.last_used_at = now
                staff.last_login_at = now
                session.add(key)
                session.add(staff)
                audit.record(crm.db, session, subject, "auth.ssh_login", "staff", staff.id, None,
                             detail)
                return subject
    raise failure

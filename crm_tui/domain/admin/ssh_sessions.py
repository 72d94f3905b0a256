"""SSH session records: the per-user cap, the one-time hand-over token, heartbeat and end.

Everything a gateway knows about a session that another gateway might need is here, in the
database: the cap counts live rows across all gateways, and a session whose gateway stopped
beating for three heartbeats no longer counts.

The hand-over: the gateway authenticates the key, opens a row with a random one-time token
(only its SHA-256 is stored) and starts the app process with the session id and the token.
The process redeems the token (`claim_session`) within CLAIM_SECONDS, once; nobody who only
knows a staff id or a session id can sign in that way.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text, update

from crm_tui.domain.admin.auth import actor_of
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import AuthFailed, Blocked
from crm_tui.store.db import retry_transaction
from crm_tui.store.models import Staff
from crm_tui.store.models_ssh import SshSession, StaffKey
from crm_tui.store.types import utcnow

CLAIM_SECONDS = 60


@dataclass(frozen=True)
class Opened:
    session_id: int
    token: str  # give to the spawned process; never stored in clear


@dataclass(frozen=True)
class Claimed:
    actor: Actor
    language: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _live_since(crm: Crm, now: datetime) -> datetime:
    return now - timedelta(seconds=3 * crm.policy().ssh.heartbeat_seconds)


def live_sessions(crm: Crm, staff_id: int) -> int:
    now = utcnow()
    with crm.db.read() as session:
        return session.scalar(select(func.count()).select_from(SshSession).where(
            SshSession.staff_id == staff_id, SshSession.ended_at.is_(None),
            SshSession.last_seen_at >= _live_since(crm, now))) or 0


@retry_transaction
def start_session(crm: Crm, actor: Actor, fingerprint: str, peer: str, gateway: str) -> Opened:
    """Open a session row for a signed-in actor, or refuse past the policy's cap (audited)."""
    cap = crm.policy().ssh.max_sessions_per_user
    now = utcnow()
    token = secrets.token_urlsafe(32)
    with crm.db.write() as session:
        if not crm.db.is_sqlite:  # gateways on other hosts: count under the staff row's lock
            session.execute(text("SELECT id FROM staff WHERE id = :id FOR UPDATE"), {"id": actor.id})
        live = session.scalar(select(func.count()).select_from(SshSession).where(
            SshSession.staff_id == actor.id, SshSession.ended_at.is_(None),
            SshSession.last_seen_at >= _live_since(crm, now))) or 0
        if live >= cap:
            audit.record(crm.db, session, actor, "ssh.session_refused", "staff", actor.id, None,
                         {"fingerprint": fingerprint, "peer": peer, "reason": "cap",
                          "live": live, "cap": cap})
        else:
            key_id = session.scalar(select(StaffKey.id).where(StaffKey.fingerprint == fingerprint))
            row = SshSession(staff_id=actor.id or 0, key_id=key_id, fingerprint=fingerprint,
                             peer=peer[:100], gateway=gateway[:100], token_hash=_hash(token),
                             started_at=now, last_seen_at=now)
            session.add(row)
            session.flush()
            audit.record(crm.db, session, actor, "ssh.session_start", "ssh_session", row.id, None,
                         {"user": actor.username, "fingerprint": fingerprint, "peer": peer,
                          "gateway": gateway})
            return Opened(row.id or 0, token)
    raise Blocked("error.ssh_session_cap", cap=cap)  # after the refusal's audit committed


@retry_transaction
def claim_session(crm: Crm, session_id: int, staff_id: int, token: str) -> Claimed:
    """Redeem the one-time token: the Actor the gateway authenticated, and their language."""
    now = utcnow()
    with crm.db.write() as session:
        row = session.get(SshSession, session_id)
        ok = (row is not None and row.staff_id == staff_id and row.token_hash
              and row.claimed_at is None and row.ended_at is None
              and now - row.started_at <= timedelta(seconds=CLAIM_SECONDS)
              and hmac.compare_digest(row.token_hash, _hash(token or "")))
        staff = session.get(Staff, staff_id) if ok else None
        if row is None or not ok or staff is None or not staff.active:
            raise AuthFailed("error.ssh_token_invalid")
        row.claimed_at = now
        row.token_hash = ""  # once only
        session.add(row)
        return Claimed(actor_of(staff), staff.language or "")


@retry_transaction
def heartbeat(crm: Crm, session_ids: list[int]) -> None:
    if not session_ids:
        return
    with crm.db.write() as session:
        session.execute(update(SshSession).where(SshSession.id.in_(session_ids),
                                                 SshSession.ended_at.is_(None))
                        .values(last_seen_at=utcnow()))


@retry_transaction
def end_session(crm: Crm, session_id: int, reason: str) -> float | None:
    """Close the row and audit the end with who, which key, from where and how long."""
    now = utcnow()
    with crm.db.write() as session:
        row = session.get(SshSession, session_id)
        if row is None or row.ended_at is not None:
            return None
        staff = session.get(Staff, row.staff_id)
        row.ended_at = now
        row.end_reason = reason[:40]
        row.token_hash = ""
        session.add(row)
        duration = round((now - row.started_at).total_seconds(), 1)
        who = actor_of(staff) if staff else Actor(id=row.staff_id, username="?", display_name="",
                                                 role="")
        audit.record(crm.db, session, who, "ssh.session_end", "ssh_session", row.id, None,
                     {"user": who.username, "fingerprint": row.fingerprint, "peer": row.peer,
                      "gateway": row.gateway, "duration_s": duration, "reason": reason})
        return duration

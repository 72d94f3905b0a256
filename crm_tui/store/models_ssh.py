"""The SSH front door's tables: staff public keys and SSH sessions.

A session row is the only shared state of a gateway: it carries the one-time token the
spawned app process must present (stored hashed), and a heartbeat so that sessions of a
gateway that died stop counting against the per-user cap."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from crm_tui.store.types import UTCDateTime, utcnow


class StaffKey(SQLModel, table=True):
    """One OpenSSH public key of one member of staff; a key belongs to one person only."""

    __tablename__ = "staff_key"
    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    fingerprint: str = Field(max_length=100, unique=True)  # SHA256:... as ssh-keygen -l shows
    algorithm: str = Field(max_length=40)
    public_key: str = Field(sa_type=Text())
    comment: str = Field(default="", max_length=200)
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)


class SshSession(SQLModel, table=True):
    __tablename__ = "ssh_session"
    __table_args__ = (Index("ix_ssh_session_live", "staff_id", "ended_at"),)
    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id")
    key_id: int | None = Field(default=None, foreign_key="staff_key.id")
    fingerprint: str = Field(max_length=100)
    peer: str = Field(default="", max_length=100)
    gateway: str = Field(default="", max_length=100)
    token_hash: str = Field(max_length=64)  # sha256 of the one-time token; "" once used
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)
    end_reason: str = Field(default="", max_length=40)

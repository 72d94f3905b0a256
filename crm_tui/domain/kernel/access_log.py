"""The access log (PIPL): who looked at which customers, when, and from which terminal.

It sits in the kernel so that every area that shows personal data (the profile, search,
lists, exports, the privacy area's copy file) can write it without importing the privacy
area. One row per call — a profile open, a search page, an export — never one per customer
shown, so a search stays as cheap as it was. Rows are only ever inserted.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import insert, or_, select
from sqlmodel import Session

from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.store.db import Database
from crm_tui.store.models_privacy import AccessLog
from crm_tui.store.types import utcnow

ACTIONS = ("profile", "search", "list", "export", "copy", "restricted")
# How many ids of a list page are kept (a search page is 50; beyond this only the count).
MAX_IDS = 80
SSH_PEER_ENV = "CRM_SSH_PEER"


@cache
def _tty() -> str:
    for fd in (0, 1, 2):
        try:
            return os.ttyname(fd)
        except OSError:
            continue
    return ""


def terminal() -> str:
    """The SSH peer the gateway named for this session, else this process's tty."""
    peer = os.environ.get(SSH_PEER_ENV, "").strip()
    return (f"ssh:{peer}" if peer else _tty())[:100]


def _ids_text(ids: Iterable[int]) -> str:
    out = ","
    for n, cid in enumerate(ids):
        if n >= MAX_IDS:
            break
        out += f"{int(cid)},"
    return out if out != "," else ""


def log_access(db: Database, actor: Actor, action: str, *, customer_id: int | None = None,
               ids: Iterable[int] = (), count: int | None = None,
               session: Session | None = None, at: datetime | None = None) -> None:
    """Append one row; inside `session` when given (the caller's write), else on its own."""
    id_list = list(ids)
    values = {
        "at": at or utcnow(), "staff_id": actor.id, "staff_name": actor.username[:100],
        "action": action, "customer_id": customer_id,
        "count": count if count is not None else (len(id_list) or 1),
        "ids": _ids_text(id_list), "terminal": terminal(),
    }
    if session is not None:
        session.execute(insert(AccessLog).values(**values))
        return
    with db.write() as own:
        own.execute(insert(AccessLog).values(**values))


@dataclass(frozen=True)
class AccessEntry:
    id: int
    at: datetime
    staff: str
    action: str
    customer_id: int | None
    count: int
    ids: tuple[int, ...]
    terminal: str


def access_entries(db: Database, actor: Actor, *, customer_id: int | None = None,
                   staff: str | None = None, since: datetime | None = None,
                   before_id: int | None = None, limit: int = 200) -> list[AccessEntry]:
    """Newest first, keyset-paged by id: everything one customer's data was shown in (a
    profile open, or a list page that held the record), or everything one staff member saw."""
    require(actor, Perm.AUDIT_VIEW)
    q = select(AccessLog).order_by(AccessLog.id.desc()).limit(limit)  # type: ignore[union-attr]
    if customer_id is not None:
        q = q.where(or_(AccessLog.customer_id == customer_id,
                        AccessLog.ids.contains(f",{int(customer_id)},")))  # type: ignore[attr-defined]
    if staff:
        q = q.where(AccessLog.staff_name == staff)
    if since is not None:
        q = q.where(AccessLog.at >= since)
    if before_id is not None:
        q = q.where(AccessLog.id < before_id)
    with db.read() as session:
        rows = session.scalars(q).all()
    return [AccessEntry(r.id or 0, r.at, r.staff_name, r.action, r.customer_id, r.count,
                        tuple(int(x) for x in r.ids.strip(",").split(",") if x), r.terminal)
            for r in rows]

"""Storing prepared customer rows: one chunk per transaction holding its rows (a Core
executemany, not ORM objects), their rule tags, their row seals and one `customer.import`
audit event. A process killed mid-import leaves whole chunks only; running it again skips
the national IDs already stored ("already imported", matched by blind index).

Seals without reading the rows back: the workers prepared each row's seal members, the
chunk adds the id, the timestamps and the defaults of the columns the import leaves out
(read from the chunk's first row). The first and last rows of every chunk are then sealed
the ordinary way from what the database holds; if either differs, the whole chunk is sealed
from the database instead, so a seal never depends on the shortcut being right.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select

from crm_tui.domain.customers.tags import evaluate_rule_tags
from crm_tui.domain.data_io.customer_rows import (
    CUSTOMER,
    INSERT_COLUMNS,
    SEAL_LAYOUT,
    VALUE_COLUMNS,
    GoodRow,
)
from crm_tui.domain.kernel import audit, seals
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.store.types import utcnow

IMPORT_CACHE_KIB = 131_072  # SQLite page cache while importing: index pages stay hot across chunks


class ChunkWriter:
    """Stores one chunk per transaction: rows, rule tags, seals, one audit event."""

    def __init__(self, crm: Crm, actor: Actor, file_name: str) -> None:
        self.crm = crm
        self.actor = actor
        self.file_name = file_name
        self.policy = crm.policy()
        self.sqlite_insert = (f"INSERT INTO customer ({', '.join(INSERT_COLUMNS)}) "
                              f"VALUES ({', '.join('?' for _ in INSERT_COLUMNS)})")
        self.resealed_chunks = 0  # chunks whose shortcut seals disagreed with the database

    def _existing(self, conn: Any, bidxs: list[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(bidxs), 900):
            part = bidxs[i:i + 900]
            found.update(conn.execute(
                select(CUSTOMER.c.national_id_bidx).where(CUSTOMER.c.national_id_bidx.in_(part))
            ).scalars())
        return found

    def store(self, rows: list[GoodRow], first_row: int, last_row: int,
              rejected: int) -> tuple[int, int]:
        """Insert the rows not already stored; returns (stored, already imported)."""
        db = self.crm.db
        with db.write() as session:
            conn = session.connection()
            existing = self._existing(conn, [r[1] for r in rows])
            fresh = [r for r in rows if r[1] not in existing]
            now = utcnow()
            ids: Sequence[int] = []
            if fresh:
                if db.is_sqlite:
                    conn.exec_driver_sql(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")
                    conn.exec_driver_sql("PRAGMA wal_autocheckpoint=10000")
                    stamp = now.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
                    start = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM customer").scalar() or 0
                    conn.exec_driver_sql(self.sqlite_insert, [r[2] + (stamp, stamp) for r in fresh])
                    # BEGIN IMMEDIATE: we are the only writer, so the new rowids are consecutive;
                    # a range lets the tag rules scan an id range instead of binding 10,000 ids.
                    ids = range(start + 1, start + 1 + len(fresh))
                else:
                    params = [dict(zip(VALUE_COLUMNS, r[2], strict=True), created_at=now, updated_at=now)
                              for r in fresh]
                    ids = list(conn.execute(insert(CUSTOMER).returning(CUSTOMER.c.id), params).scalars())
                evaluate_rule_tags(session, self.policy, ids)
                self._seal(conn, fresh, ids)
            audit.record(db, session, self.actor, "customer.import", "customer", "", None,
                         {"file": self.file_name, "rows": f"{first_row}-{last_row}",
                          "count": len(fresh), "already_imported": len(rows) - len(fresh),
                          "rejected": rejected})
        return len(fresh), len(rows) - len(fresh)

    def _seal(self, conn: Any, fresh: list[GoodRow], ids: Sequence[int]) -> None:
        key = self.crm.db.audit_key
        if key is None:  # no audit key: nothing is sealed anywhere (see kernel.seals)
            return
        stored = [dict(r._mapping) for r in conn.execute(
            select(CUSTOMER).where(CUSTOMER.c.id.in_({ids[0], ids[-1]})).order_by(CUSTOMER.c.id))]
        first, last = stored[0], stored[-1]
        # Per layout slot: an early group's index into the row's members, a late column's
        # member (the same for the whole chunk), or None for the id.
        slots: list[int | str | None] = []
        for item in SEAL_LAYOUT:
            if isinstance(item, tuple):
                slots.append(sum(isinstance(s, int) for s in slots))
            else:
                slots.append(None if item == "id" else seals.mac_members({item: first[item]}))
        macs: dict[int, str] = {}
        for (_, _, _, members), row_id in zip(fresh, ids, strict=True):
            id_member = seals.id_member(row_id)
            macs[row_id] = seals.mac_of_members(key, "customer", row_id, [
                members[s] if isinstance(s, int) else (id_member if s is None else s)
                for s in slots])
        if any(macs[r["id"]] != seals.row_mac(key, "customer", r) for r in (first, last)):
            self.resealed_chunks += 1
            seals.seal_now(key, conn, "customer", ids)
            return
        seals.store_macs(conn, "customer", macs, ids)

    def count_existing(self, bidxs: list[str]) -> int:
        with self.crm.db.read() as session:
            return len(self._existing(session.connection(), bidxs))

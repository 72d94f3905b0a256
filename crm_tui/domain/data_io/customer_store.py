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
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from crm_tui.domain.customers.tags import evaluate_rule_tags
from crm_tui.domain.data_io.customer_rows import (
    CUSTOMER,
    INSERT_COLUMNS,
    LATE_COLUMNS,
    SEAL_LAYOUT,
    VALUE_COLUMNS,
    GoodRow,
    SealPlan,
    Slot,
    seal_of,
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
        self.sqlite_insert_ids = (f"INSERT INTO customer (id, {', '.join(INSERT_COLUMNS)}) "
                                  f"VALUES (?, {', '.join('?' for _ in INSERT_COLUMNS)})")
        self.resealed_chunks = 0  # chunks whose shortcut seals disagreed with the database
        self.planned_chunks = 0  # chunks stored under the ids their workers sealed them with
        self.now: datetime | None = None  # one created_at for the whole import (SQLite)
        self.late: dict[str, Any] | None = None  # the store-filled columns, once confirmed
        self.next_id = 0  # after the last row this import stored
        self.plan_broken = False  # another writer took ids: no more planned chunks

    def plan(self, first_id: int) -> SealPlan | None:
        """A seal plan for rows from `first_id` on, once a chunk has confirmed the values of
        the store-filled columns (SQLite only: PostgreSQL hands out ids from a sequence)."""
        key = self.crm.db.audit_key
        if key is None or self.late is None or self.plan_broken or not self.crm.db.is_sqlite:
            return None
        return SealPlan(key, self.late, first_id)

    def _existing(self, conn: Any, bidxs: list[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(bidxs), 900):
            part = bidxs[i:i + 900]
            if self.crm.db.is_sqlite:  # plain SQL: no statement to compile per 900 keys
                found.update(conn.exec_driver_sql(
                    "SELECT national_id_bidx FROM customer WHERE national_id_bidx IN "
                    f"({', '.join('?' * len(part))})", tuple(part)).scalars())
            else:
                found.update(conn.execute(select(CUSTOMER.c.national_id_bidx).where(
                    CUSTOMER.c.national_id_bidx.in_(part))).scalars())
        return found

    def store(self, rows: list[GoodRow], first_row: int, last_row: int,
              rejected: int) -> tuple[int, int]:
        """Insert the rows not already stored; returns (stored, already imported)."""
        db = self.crm.db
        with db.write() as session:
            conn = session.connection()
            existing = self._existing(conn, [r[1] for r in rows])
            fresh = [r for r in rows if r[1] not in existing]
            if fresh:
                if db.is_sqlite:
                    ids = self._insert_sqlite(conn, fresh)
                else:
                    now = utcnow()
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

    def _insert_sqlite(self, conn: Any, fresh: list[GoodRow]) -> Sequence[int]:
        conn.exec_driver_sql(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")
        conn.exec_driver_sql("PRAGMA wal_autocheckpoint=10000")
        if self.now is None:
            self.now = utcnow()
        stamp = self.now.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        top = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM customer").scalar() or 0
        planned = [r[4][0] for r in fresh if r[4] is not None]
        if len(planned) == len(fresh) and top < planned[0]:
            # Nobody holds an id from the plan's first on (we hold the write lock): the rows
            # take the ids their seals were made with. Rejected rows leave gaps.
            conn.exec_driver_sql(self.sqlite_insert_ids,
                                 [(r[4][0], *r[2], stamp, stamp) for r in fresh])  # type: ignore[index]
            self.next_id = planned[-1] + 1
            return range(planned[0], planned[-1] + 1)  # only this chunk's rows in between
        if planned:
            self.plan_broken = True
        conn.exec_driver_sql(self.sqlite_insert, [r[2] + (stamp, stamp) for r in fresh])
        # BEGIN IMMEDIATE: we are the only writer, so the new rowids are consecutive; a range
        # lets the tag rules scan an id range instead of binding 10,000 ids.
        self.next_id = top + 1 + len(fresh)
        return range(top + 1, top + 1 + len(fresh))

    def _seal(self, conn: Any, fresh: list[GoodRow], ids: Sequence[int]) -> None:
        key = self.crm.db.audit_key
        if key is None:  # no audit key: nothing is sealed anywhere (see kernel.seals)
            return
        stored = [dict(r._mapping) for r in conn.execute(
            select(CUSTOMER).where(CUSTOMER.c.id.in_({ids[0], ids[-1]})).order_by(CUSTOMER.c.id))]
        first, last = stored[0], stored[-1]
        macs: dict[int, str] = {}
        if all(r[4] is not None and r[4][0] == row_id
               for r, row_id in ((fresh[0], first["id"]), (fresh[-1], last["id"]))):
            macs = {r[4][0]: r[4][1] for r in fresh}  # type: ignore[index]
        elif all(r[3] for r in fresh):  # inserted with the ids the database gave: one per row
            slots = self._slots(first)
            macs = {row_id: seal_of(key, row_id, r[3], slots)
                    for r, row_id in zip(fresh, ids, strict=True)}
        if any(macs.get(r["id"]) != seals.row_mac(key, "customer", r) for r in (first, last)):
            if macs:  # the shortcut disagrees with the database (a planned chunk that broke
                self.resealed_chunks += 1  # its plan has no members to seal from: not counted)
            self.late = None
            seals.seal_now(key, conn, "customer", ids)
            return
        if self.late is None and self.crm.db.is_sqlite:  # confirmed by this chunk's rows
            self.late = {c: first[c] for c in LATE_COLUMNS if c != "id"}
        if fresh[0][4] is not None:
            self.planned_chunks += 1
        seals.store_macs(conn, "customer", macs, ids)

    @staticmethod
    def _slots(first: dict[str, Any]) -> tuple[Slot, ...]:
        """Per layout slot: an early group's index into the row's members, a late column's
        member (the same for the whole chunk, read from its first row), or None for the id."""
        slots: list[Slot] = []
        for item in SEAL_LAYOUT:
            if isinstance(item, tuple):
                slots.append(sum(isinstance(s, int) for s in slots))
            else:
                slots.append(None if item == "id" else seals.mac_members({item: first[item]}))
        return tuple(slots)

    def count_existing(self, bidxs: list[str]) -> int:
        with self.crm.db.read() as session:
            return len(self._existing(session.connection(), bidxs))

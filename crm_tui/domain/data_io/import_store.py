"""Where `crm import customers` writes: one transaction per chunk (rows, rule tags, one
audit event) and the rejects file.

The rejects file holds the operator's own input (plaintext, as in the source file) plus the
reason; it is written through `safe_files` beside the source file.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import insert, select

from crm_tui.domain.customers.tags import evaluate_rule_tags
from crm_tui.domain.data_io.import_rows import CUSTOMER, INSERT_COLUMNS, VALUE_COLUMNS
from crm_tui.domain.kernel import audit, safe_files
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, translate
from crm_tui.store.types import utcnow

IMPORT_CACHE_KIB = 131_072  # SQLite page cache while importing: index pages stay hot across chunks


class ChunkWriter:
    """Stores one chunk per transaction: rows, rule tags, one audit event."""

    def __init__(self, crm: Crm, actor: Actor, file_name: str) -> None:
        self.crm = crm
        self.actor = actor
        self.file_name = file_name
        self.policy = crm.policy()
        self.sqlite_insert = (f"INSERT INTO customer ({', '.join(INSERT_COLUMNS)}) "
                              f"VALUES ({', '.join('?' for _ in INSERT_COLUMNS)})")

    def _existing(self, conn: Any, bidxs: list[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(bidxs), 900):
            part = bidxs[i:i + 900]
            found.update(conn.execute(
                select(CUSTOMER.c.national_id_bidx).where(CUSTOMER.c.national_id_bidx.in_(part))
            ).scalars())
        return found

    def store(self, rows: list[tuple[int, str, tuple[Any, ...]]], first_row: int, last_row: int,
              rejected: int) -> tuple[int, int]:
        """Insert the rows not already stored; returns (stored, already imported)."""
        db = self.crm.db
        with db.write() as session:
            conn = session.connection()
            existing = self._existing(conn, [b for _, b, _ in rows])
            fresh = [r for r in rows if r[1] not in existing]
            now = utcnow()
            ids: Sequence[int] = []
            if fresh:
                if db.is_sqlite:
                    conn.exec_driver_sql(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")
                    conn.exec_driver_sql("PRAGMA wal_autocheckpoint=10000")
                    stamp = now.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
                    start = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM customer").scalar() or 0
                    conn.exec_driver_sql(self.sqlite_insert, [v + (stamp, stamp) for _, _, v in fresh])
                    # BEGIN IMMEDIATE: we are the only writer, so the new rowids are consecutive;
                    # a range lets the tag rules scan an id range instead of binding 10,000 ids.
                    ids = range(start + 1, start + 1 + len(fresh))
                else:
                    params = [dict(zip(VALUE_COLUMNS, v, strict=True), created_at=now, updated_at=now)
                              for _, _, v in fresh]
                    ids = list(conn.execute(insert(CUSTOMER).returning(CUSTOMER.c.id), params).scalars())
                evaluate_rule_tags(session, self.policy, ids)
            audit.record(db, session, self.actor, "customer.import", "customer", "", None,
                         {"file": self.file_name, "rows": f"{first_row}-{last_row}",
                          "count": len(fresh), "already_imported": len(rows) - len(fresh),
                          "rejected": rejected})
        return len(fresh), len(rows) - len(fresh)

    def count_existing(self, bidxs: list[str]) -> int:
        with self.crm.db.read() as session:
            return len(self._existing(session.connection(), bidxs))


# -- rejects file ------------------------------------------------------------------------------


class Rejects:
    """The rejected rows with their original cells and the reasons, created on first use.

    Written through `safe_files` (a new 0600 temp file renamed into place on close, never the
    database, the key or the file being read) with formula cells defused.
    """

    def __init__(self, path: Path, headers: list[str], protected: list[safe_files.Protected]) -> None:
        self.path = safe_files.check_output(path, protected)  # refused before any row is stored
        self.headers = headers
        self._protected = protected
        self._tmp: Path | None = None
        self._fh: IO[str] | None = None
        self._writer: Any = None

    def add(self, cells: list[Any], errors: list[FieldError]) -> None:
        if self._writer is None:
            self._tmp, fd = safe_files.reserve(self.path, self._protected)
            self._fh = open(fd, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
            self._writer = csv.writer(self._fh)
            # the rejects file is for the operator who ran the import: her language
            self._writer.writerow([safe_files.defuse(h) for h in
                                   [*self.headers, translate("import.rejects.error_column")]])
        row = ["" if c is None else (c.isoformat() if isinstance(c, date | datetime) else str(c))
               for c in cells]
        row += [""] * (len(self.headers) - len(row))
        self._writer.writerow([safe_files.defuse(c) for c in
                               [*row, " | ".join(e.line() for e in errors)]])

    @property
    def used(self) -> bool:
        return self._writer is not None

    def close(self) -> None:
        if self._fh is not None and self._tmp is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None
            safe_files.commit(self._tmp, self.path, self._protected)

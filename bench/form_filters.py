"""A ticket queue filtered by a custom field, with and without the field's expression index,
next to the raw SQL of the same page (`python -m bench.form_filters [TICKETS]`).

A private SQLite database under the system temp dir (never bench/data): the real
migrations, one customer, TICKETS open tickets (default 300,000) whose `custom` holds a
filterable choice `severity` (低 89.5 %, 中 10 %, 高 0.5 %) inserted with raw sqlite3. The
figure is `queue_page` with `severity=高` (a rare value: what an index is for); the floor
is the SQL the domain sent, replayed on a plain sqlite3 connection.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

RUNS = 40


def _ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def build(path: Path, tickets: int):  # type: ignore[no-untyped-def]
    from crm_tui.domain.admin.setup import init_database
    from crm_tui.domain.forms.definitions import add_field
    from crm_tui.domain.kernel.actor import system_actor
    from crm_tui.domain.kernel.context import Crm
    from crm_tui.settings import Settings
    from crm_tui.store.crypto import Keyring, write_key_file
    from crm_tui.store.db import Database

    url = f"sqlite:///{path}"
    key = path.with_suffix(".key")
    keys = Keyring.generate()
    write_key_file(key, keys)
    crm = Crm(Database(url), keys, Settings(database_url=url, key_file=key), key)
    init_database(crm, system_actor("bench"))
    add_field(crm, system_actor("bench"), "ticket", "severity", type="choice", label_zh="严重程度",
              label_en="Severity", choices=["低", "中", "高"], filterable=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    now = datetime.now(UTC)
    conn.execute("INSERT INTO branch (code, name, region) VALUES ('BJ01', '北京', '华北')")
    conn.execute("INSERT INTO customer (kind, name, name_pinyin, name_initials, id_type, email, "
                 "gender, address, occupation, annual_income_fen, goals, aum_fen, branch_id, "
                 "status, created_at, updated_at, version) VALUES ('individual', '张三', '', '', "
                 "'resident_id', '', '', '', '', 0, '', 0, 1, 'active', ?, ?, 1)",
                 (_ts(now), _ts(now)))
    rng = random.Random(13)
    rows = []
    for _ in range(tickets):
        r = rng.random()
        severity = "高" if r < 0.005 else "中" if r < 0.105 else "低"
        due = now + timedelta(minutes=rng.randrange(1, 60 * 24 * 30))
        rows.append((_ts(now), _ts(due), _ts(due), _ts(due),
                     json.dumps({"severity": severity})))
    conn.executemany(
        "INSERT INTO ticket (customer_id, branch_id, type, priority, state, queue, subject, "
        "description, channel, created_at, first_response_due, resolution_due, next_due_at, "
        "resolution_note, breached, reopened, version, custom) VALUES (1, 1, 'inquiry', "
        "'normal', 'new', 'general', '咨询', '', 'phone', ?, ?, ?, ?, '', 0, 0, 1, ?)", rows)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return crm


def _p50(fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    tickets = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    from sqlalchemy import event

    from crm_tui.domain.forms.filters import parse_filters
    from crm_tui.domain.kernel.actor import system_actor
    from crm_tui.domain.service.queue import QueueFilter, queue_page

    with tempfile.TemporaryDirectory(prefix="crm-forms-bench-") as tmp:
        path = Path(tmp) / "tickets.db"
        started = time.perf_counter()
        crm = build(path, tickets)
        print(f"{tickets:,} tickets built in {time.perf_counter() - started:.0f} s")
        admin = system_actor("bench")
        flt = QueueFilter(custom=parse_filters(crm, "ticket", {"severity": "高"}))
        sent: list[tuple[str, object]] = []

        def grab(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
            if "FROM ticket" in statement:
                sent.append((statement, params))
        event.listen(crm.db.read_engine, "before_cursor_execute", grab)
        rows = queue_page(crm, admin, flt)
        event.remove(crm.db.read_engine, "before_cursor_execute", grab)
        statement, params = sent[-1]
        raw = sqlite3.connect(path)
        for label in ("with index", "without index"):
            domain = _p50(lambda: queue_page(crm, admin, flt))
            floor = _p50(lambda db=raw: db.execute(statement, params).fetchall())
            plan = " | ".join(r[-1] for r in raw.execute(f"EXPLAIN QUERY PLAN {statement}", params))
            print(f"queue page, severity=高 ({len(rows)} rows), {label}: domain p50 {domain:.2f} ms,"
                  f" raw SQL p50 {floor:.2f} ms (x{domain / floor:.1f}); plan: {plan}")
            with crm.db.write() as session:
                from sqlalchemy import text
                session.execute(text('DROP INDEX IF EXISTS "ix_ticket_cf_severity"'))
            raw.close()
            raw = sqlite3.connect(path)
        raw.close()
        crm.db.dispose()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A ticket queue filtered by a custom field, with and without the field's index, next to
the raw SQL of the same page (`python -m bench.form_filters [TICKETS]`).

A private SQLite database under the system temp dir (never bench/data): the real
migrations, one customer, TICKETS open tickets (default 300,000) whose `custom` holds a
filterable choice `severity` (低 89.5 %, 中 10 %, 高 0.5 %) and a filterable multi-choice
`topics` (理财 and 贷款 40 % each, 外汇 0.5 %), inserted with raw sqlite3 (the triggers of
migration 0020 fill `custom_choice` on the way). The figures are `queue_page` with
`severity=高`, `topics=外汇` (rare values: what an index is for) and `topics=理财` (a common
one); the floor is the SQL the domain sent, replayed on a plain sqlite3 connection. "without
index" drops the expression index (choice) or filters through the records' JSON with
json_each (multi-choice: what the filter did before `custom_choice`). Last, what the
triggers cost a raw insert of tickets.
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
    add_field(crm, system_actor("bench"), "ticket", "topics", type="multi_choice",
              label_zh="关注业务", label_en="Topics", choices=["理财", "贷款", "外汇"],
              filterable=True)
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
    conn.executemany(INSERT, _rows(random.Random(13), tickets, now))
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()
    return crm


INSERT = ("INSERT INTO ticket (customer_id, branch_id, type, priority, state, queue, subject, "
          "description, channel, created_at, first_response_due, resolution_due, next_due_at, "
          "resolution_note, breached, reopened, version, custom) VALUES (1, 1, 'inquiry', "
          "'normal', 'new', 'general', '咨询', '', 'phone', ?, ?, ?, ?, '', 0, 0, 1, ?)")


def _rows(rng: random.Random, tickets: int, now: datetime) -> list[tuple[str, ...]]:
    rows = []
    for _ in range(tickets):
        r = rng.random()
        severity = "高" if r < 0.005 else "中" if r < 0.105 else "低"
        topics = [t for t in ("理财", "贷款") if rng.random() < 0.4]
        if rng.random() < 0.005:
            topics.append("外汇")
        due = now + timedelta(minutes=rng.randrange(1, 60 * 24 * 30))
        rows.append((_ts(now), _ts(due), _ts(due), _ts(due),
                     json.dumps({"severity": severity, "topics": topics}, ensure_ascii=False)))
    return rows


def _insert_seconds(path: Path, rows: list[tuple[str, ...]]) -> float:
    """A raw insert of `rows` tickets, rolled back."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    started = time.perf_counter()
    conn.executemany(INSERT, rows)
    took = time.perf_counter() - started
    conn.execute("ROLLBACK")
    conn.close()
    return took


def _p50(fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    tickets = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    from sqlalchemy import event, text

    from crm_tui.domain.forms import filters
    from crm_tui.domain.forms.filters import parse_filters, scan_clause
    from crm_tui.domain.kernel.actor import system_actor
    from crm_tui.domain.service.queue import QueueFilter, queue_page

    with tempfile.TemporaryDirectory(prefix="crm-forms-bench-") as tmp:
        path = Path(tmp) / "tickets.db"
        started = time.perf_counter()
        crm = build(path, tickets)
        print(f"{tickets:,} tickets built in {time.perf_counter() - started:.0f} s")
        admin = system_actor("bench")

        def run(key: str, value: str, label: str) -> None:
            flt = QueueFilter(custom=parse_filters(crm, "ticket", {key: value}))
            sent: list[tuple[str, object]] = []

            def grab(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
                if "FROM ticket" in statement:
                    sent.append((statement, params))
            event.listen(crm.db.read_engine, "before_cursor_execute", grab)
            rows = queue_page(crm, admin, flt)
            event.remove(crm.db.read_engine, "before_cursor_execute", grab)
            statement, params = sent[-1]
            raw = sqlite3.connect(path)
            domain = _p50(lambda: queue_page(crm, admin, flt))
            floor = _p50(lambda: raw.execute(statement, params).fetchall())
            plan = " | ".join(r[-1] for r in raw.execute(f"EXPLAIN QUERY PLAN {statement}", params))
            raw.close()
            print(f"queue page, {key}={value} ({len(rows)} rows), {label}: domain p50 "
                  f"{domain:.2f} ms, raw SQL p50 {floor:.2f} ms (x{domain / floor:.1f}); "
                  f"plan: {plan}")

        run("topics", "外汇", "with index (custom_choice)")
        run("topics", "理财", "with index (custom_choice)")
        indexed = filters.has_choice
        filters.has_choice = lambda f, rid: scan_clause(f, rid.table.c.custom)  # type: ignore[assignment]
        run("topics", "外汇", "without index (json_each)")
        run("topics", "理财", "without index (json_each)")
        filters.has_choice = indexed  # type: ignore[assignment]
        run("severity", "高", "with index")
        with crm.db.write() as session:
            session.execute(text('DROP INDEX IF EXISTS "ix_ticket_cf_severity"'))
        run("severity", "高", "without index")
        extra = _rows(random.Random(7), min(tickets, 100_000), datetime.now(UTC))
        with_triggers = _insert_seconds(path, extra)
        with crm.db.write() as session:
            session.execute(text("DROP TRIGGER custom_choice_ticket_insert"))
        without = _insert_seconds(path, extra)
        print(f"raw insert of {len(extra):,} tickets: {len(extra) / with_triggers:,.0f} rows/s "
              f"with the custom_choice triggers, {len(extra) / without:,.0f} rows/s without")
        crm.db.dispose()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

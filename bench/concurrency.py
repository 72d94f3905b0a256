"""The concurrency suite (customers, approval levels, tickets, leads) at a longer length
(tests/test_concurrency.py runs it for seconds):
8 workers, 60 rounds each, on SQLite and (when reachable) PostgreSQL."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

from bench.report import Figure


def _stores(tmp: Path):  # type: ignore[no-untyped-def]
    yield "sqlite", f"sqlite:///{tmp / 'c.db'}", None
    from sqlalchemy import create_engine, text

    admin_url = os.environ.get("CRM_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        schema = "bench_" + uuid.uuid4().hex[:10]
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception:  # noqa: BLE001 - no server: SQLite only
        return
    try:
        yield "pg", f"{admin_url}?options=-csearch_path%3D{schema}", None
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run_concurrency(workers: int = 8, rounds: int = 60) -> list[Figure]:
    from sqlmodel import SQLModel

    from crm_tui.domain.kernel.actor import system_actor
    from crm_tui.domain.kernel.context import Crm
    from crm_tui.domain.policy.document import activate_policy, default_policy_text
    from crm_tui.settings import Settings
    from crm_tui.store.crypto import Keyring
    from crm_tui.store.db import Database
    from tests.concurrency import harness
    from tests.concurrency.scenarios import SCENARIOS
    from tests.conftest import build_world

    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, url, _ in _stores(Path(tmp)):
            db = Database(url)
            SQLModel.metadata.create_all(db.write_engine)
            crm = Crm(db, Keyring.generate(), Settings(database_url=url))
            with db.write() as s:
                activate_policy(db, s, system_actor("bench"), default_policy_text())
            world = build_world(crm)
            print(f"\nconcurrency on {name}: {workers} workers x {rounds} rounds", flush=True)
            report = harness.run(crm, world.actors, SCENARIOS, workers=workers, rounds=rounds,
                                 size=5)
            for p in report.problems[:5]:
                print(f"  problem: {p}")
            ops = len(report.outcomes)
            figures += [
                Figure(f"concurrency.{name}.problems", len(report.problems), "", target="<= 0",
                       met=not report.problems,
                       note=f"{report.count('ack')} acked, {report.count('conflict')} conflicts, "
                            f"{report.count('refused')} refused, {report.count('error')} errors"),
                Figure(f"concurrency.{name}.ops_per_s", ops / report.seconds, "ops/s"),
            ]
            db.dispose()
    return figures

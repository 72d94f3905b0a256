"""SIGKILL in the middle of an import leaves whole chunks only; running it again completes it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.cli_support import add_org, crm_cli, init_db, sql
from tests.customer_files import rows, write_csv

ROWS = 6_000
CHUNK = 250


def _count(db: Path) -> int:
    conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute("SELECT count(*) FROM customer").fetchone()[0]
    finally:
        conn.close()


def test_sigkill_mid_import_then_rerun(tmp_path: Path) -> None:
    db = init_db(tmp_path / "crm.db")
    add_org(db)
    file = write_csv(tmp_path / "big.csv", rows(ROWS))
    env = {**os.environ, "CRM_LANG": "en"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from crm_tui.cli import main; main()", "import", "customers",
         str(file), "--db", str(db), "--chunk-rows", str(CHUNK), "--workers", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if _count(db) >= 2 * CHUNK:
                break
            time.sleep(0.01)
        assert proc.poll() is None, "the import finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    assert proc.returncode == -signal.SIGKILL

    kept = _count(db)
    assert 0 < kept < ROWS
    assert kept % CHUNK == 0, "a chunk was half-written"
    events = sql(db, "SELECT count(*) FROM audit_event WHERE action = 'customer.import'")[0][0]
    assert events == kept // CHUNK  # each stored chunk carries its own audit event
    assert crm_cli("audit", "verify", "--db", str(db)).code == 0

    again = crm_cli("import", "customers", str(file), "--db", str(db), "--chunk-rows", "2000")
    assert again.code == 0, again.err
    assert f"{ROWS - kept} stored, {kept} already imported, 0 rejected" in again.out
    assert _count(db) == ROWS
    assert sql(db, "SELECT count(DISTINCT national_id_bidx) FROM customer") == [(ROWS,)]
    assert sql(db, "SELECT count(*) FROM customer_tag ct LEFT JOIN customer c ON c.id = "
                   "ct.customer_id WHERE c.id IS NULL") == [(0,)]
    assert crm_cli("audit", "verify", "--db", str(db)).code == 0

"""An empty CRM database made by the product itself, then opened on raw sqlite3 for a
bulk load: the benches that write their own data (tickets, KPIs) start from the real schema,
policy and key, and load millions of rows without the ORM."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench.generate import key_path


def open_bulk_database(path: Path) -> sqlite3.Connection:
    """`crm init`'s schema and policy at `path` (its key beside it), opened with no journal,
    no fsync and a large cache, inside one open transaction; the caller commits."""
    from crm_tui.domain.admin.setup import init_database
    from crm_tui.domain.kernel.actor import system_actor
    from crm_tui.domain.kernel.context import Crm
    from crm_tui.settings import Settings
    from crm_tui.store.crypto import Keyring, write_key_file
    from crm_tui.store.db import Database

    url = f"sqlite:///{path}"
    keys = Keyring.generate()
    write_key_file(key_path(path), keys)
    crm = Crm(Database(url), keys, Settings(database_url=url, key_file=key_path(path)),
              key_path(path))
    init_database(crm, system_actor("bench"))
    crm.db.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-400000"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute("BEGIN")
    return conn

"""A cached bench database whose revision number is current but whose schema is not.

The cache is named by the head revision, but a revision can be filled in after a database
was generated at it (revisions reserved empty, filled in later). Such a file is never
changed in place (others share it): the bench copies it, winds the copy's revision back
to before the first migration that changed, and upgrades the copy with the app's own
migrations. The facts file records each migration's fingerprint for the next check.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from crm_tui.store.migrate import MIGRATIONS


def migration_fingerprints() -> dict[str, str]:
    """Each revision, base to head, with a hash of its script."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    revisions = list(reversed(list(ScriptDirectory.from_config(cfg).walk_revisions())))
    return {r.revision: hashlib.sha256(Path(r.path).read_bytes()).hexdigest()[:12]
            for r in revisions}


def missing_schema(path: Path) -> list[str]:
    """Tables, columns and indexes the models have and the database file lacks."""
    import importlib
    import pkgutil

    from sqlmodel import SQLModel

    import crm_tui.store

    for mod in pkgutil.iter_modules(crm_tui.store.__path__):
        if mod.name.startswith("models"):
            importlib.import_module(f"crm_tui.store.{mod.name}")  # every table registered

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        missing = []
        for table in SQLModel.metadata.sorted_tables:
            have = {r[1] for r in conn.execute(f'PRAGMA table_info("{table.name}")')}
            if not have:
                missing.append(table.name)
                continue
            missing += [f"{table.name}.{c.name}" for c in table.columns if c.name not in have]
            indexes = {r[1]: [c[2] for c in conn.execute(f'PRAGMA index_info("{r[1]}")')]
                       for r in conn.execute(f'PRAGMA index_list("{table.name}")')}
            missing += [f"{table.name}:{ix.name}" for ix in table.indexes
                        if indexes.get(str(ix.name)) != [c.name for c in ix.columns]]
        return missing
    finally:
        conn.close()


def _first_changed(facts: dict[str, Any], missing: list[str], current: dict[str, str]) -> str:
    """The first revision whose script differs from the one the file was made with. For a
    file made before fingerprints were kept: the earliest revision that brings what the
    file lacks (a table: the script creating it; a column or index: the last script
    naming it)."""
    known = facts.get("migrations")
    if known is not None:
        return next(rev for rev in current if known.get(rev) != current[rev])
    scripts = {rev: next(MIGRATIONS.glob(f"versions/{rev}_*.py")).read_text() for rev in current}
    # tables and columns name one migration; an index name may recur (dropped, recreated)
    sure = [m for m in missing if ":" not in m] or missing
    found = []
    for item in sure:
        name = item.replace(":", ".").rsplit(".", 1)[-1]
        naming = [rev for rev, text in scripts.items() if f"'{name}'" in text or f'"{name}"' in text]
        if naming:
            found.append(naming[-1] if "." in item or ":" in item else naming[0])
    if not found:
        raise RuntimeError(f"no migration brings {', '.join(missing[:5])}: generate again")
    return min(found, key=list(current).index)


def upgraded_copy(path: Path, facts: dict[str, Any], key_of: Any, log: Any
                  ) -> tuple[Path, dict[str, Any]]:
    """`path` if its schema is the models'; else a migrated copy beside it (made once)."""
    current = migration_fingerprints()
    missing = [] if facts.get("migrations") == current else missing_schema(path)
    if not missing:
        return path, facts
    tag = hashlib.sha256(json.dumps(current).encode()).hexdigest()[:8]
    copy = path.with_name(f"{path.stem}-s{tag}.db")
    copy_facts = Path(f"{copy}.json")
    if copy.exists() and key_of(copy).exists() and copy_facts.exists():
        return copy, json.loads(copy_facts.read_text())
    first = _first_changed(facts, missing, current)
    revisions = list(current)
    back_to = revisions[revisions.index(first) - 1]
    log(f"{path.name} predates migration {first}: upgrading a copy from {back_to} as {copy.name}")
    started = time.perf_counter()
    tmp = copy.with_name(copy.stem + ".building.db")
    tmp.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # others may be using it:
    conn = sqlite3.connect(tmp, isolation_level=None)  # a consistent copy, WAL included
    try:
        source.backup(conn)
        conn.execute("UPDATE alembic_version SET version_num = ?", (back_to,))
    finally:
        conn.close()
        source.close()
    from crm_tui.store.db import Database
    from crm_tui.store.migrate import upgrade

    db = Database(f"sqlite:///{tmp}")
    try:
        upgrade(db.write_engine)
    finally:
        db.dispose()
    shutil.copyfile(key_of(path), key_of(copy))
    os.chmod(key_of(copy), 0o600)
    os.replace(tmp, copy)
    for side in ("-wal", "-shm"):
        Path(f"{tmp}{side}").unlink(missing_ok=True)
    out = dict(facts, migrations=current, upgraded_from=path.name,
               upgrade_seconds=round(time.perf_counter() - started, 1))
    copy_facts.write_text(json.dumps(out, ensure_ascii=False, indent=2))
    log(f"upgraded in {out['upgrade_seconds']} s")
    return copy, out

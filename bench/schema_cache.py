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


def _first_changed(facts: dict[str, Any], db_file: Path, current: dict[str, str]) -> str:
    """The first revision whose script differs from the one the file was made with; for
    a file made before fingerprints were kept, the first script changed after it."""
    known = facts.get("migrations")
    for rev in current:
        if known is not None and known.get(rev) != current[rev]:
            return rev
        if known is None:
            script = next(MIGRATIONS.glob(f"versions/{rev}_*.py"), None)
            if script is not None and script.stat().st_mtime > db_file.stat().st_mtime:
                return rev
    raise RuntimeError(f"{db_file.name} lacks part of the schema, but no migration changed "
                       "since it was made: delete your own copy and generate again")


def upgraded_copy(path: Path, facts: dict[str, Any], key_of: Any, log: Any
                  ) -> tuple[Path, dict[str, Any]]:
    """`path` if its schema is the models'; else a migrated copy beside it (made once)."""
    current = migration_fingerprints()
    if facts.get("migrations") == current or not missing_schema(path):
        return path, facts
    tag = hashlib.sha256(json.dumps(current).encode()).hexdigest()[:8]
    copy = path.with_name(f"{path.stem}-s{tag}.db")
    copy_facts = Path(f"{copy}.json")
    if copy.exists() and key_of(copy).exists() and copy_facts.exists():
        return copy, json.loads(copy_facts.read_text())
    first = _first_changed(facts, path, current)
    revisions = list(current)
    back_to = revisions[revisions.index(first) - 1]
    log(f"{path.name} predates migration {first}: upgrading a copy from {back_to} as {copy.name}")
    started = time.perf_counter()
    tmp = copy.with_name(copy.stem + ".building.db")
    shutil.copyfile(path, tmp)
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute("UPDATE alembic_version SET version_num = ?", (back_to,))
    conn.close()
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

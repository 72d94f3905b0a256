"""Online backup and restore of a SQLite store through SQLite's backup API.

The backup API copies a consistent snapshot (WAL included) while the app keeps running. A
backup holds only ciphertext for sensitive values and never the key file: keys and backups
are kept apart on purpose. Restoring copies INTO the live database with the same API, so
readers switch from the old to the restored content in one step; the replaced content is
kept beside it as `<db>.before-restore`.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from crm_tui.domain.kernel import audit, safe_files
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import DomainError
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.store.db import BUSY_TIMEOUT_MS

SQLITE_MAGIC = b"SQLite format 3\x00"
REQUIRED_TABLES = ("alembic_version", "customer", "staff", "audit_event", "audit_head")


class BackupRefused(DomainError):
    key = "backup.error.refused"


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    revision: str
    head: str
    customers: int
    audit_events: int
    key_ids: tuple[str, ...]

    @property
    def needs_upgrade(self) -> bool:
        return self.revision != self.head


@dataclass(frozen=True)
class RestoreReport:
    info: BackupInfo
    replaced_copy: Path | None


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return conn


def _sqlite_path(crm: Crm) -> Path:
    path = crm.db.sqlite_path
    if path is None:
        raise BackupRefused("backup.error.postgres")
    return path


def _copy(src: sqlite3.Connection, dest_path: Path,
          protected: list[safe_files.Protected] | None = None) -> None:
    """Snapshot `src` into a new single-file database at `dest_path` (0600), atomically."""
    with safe_files.atomic_path(dest_path, protected or []) as tmp:
        with closing(_connect(tmp)) as dest:
            src.backup(dest)
            dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal
            ok = dest.execute("PRAGMA quick_check").fetchone()
            if not ok or ok[0] != "ok":
                raise BackupRefused("backup.error.check_failed", detail=str(ok[0] if ok else ""))


def _known_revision(revision: str) -> bool:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from crm_tui.store.migrate import MIGRATIONS

    if not revision:
        return False
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    try:
        return ScriptDirectory.from_config(cfg).get_revision(revision) is not None
    except Exception:  # alembic raises its own ResolutionError family for unknown ids
        return False


def backup_database(crm: Crm, actor: Actor, dest: Path, *, overwrite: bool = False) -> BackupInfo:
    """Write a consistent copy of the live database to `dest`; the event is inside it."""
    require(actor, Perm.BACKUP)
    src_path = _sqlite_path(crm)
    dest = dest.expanduser()
    if dest.resolve() == src_path.resolve():
        raise BackupRefused("backup.error.same_file")
    protected = safe_files.protected_for(crm)
    dest = safe_files.check_output(dest, protected)  # never the key file, the WAL, a link's target
    if dest.exists() and not overwrite:
        raise BackupRefused("backup.error.exists", path=str(dest))
    if not dest.parent.is_dir():
        raise BackupRefused("backup.error.no_dir", path=str(dest.parent))
    with crm.db.write() as session:  # written before the copy, so the backup records itself
        audit.record(crm.db, session, actor, "db.backup", "database", "", None,
                     {"file": dest.name})
    with closing(_connect(src_path)) as src:
        _copy(src, dest, protected)
    return inspect_backup(dest, crm)


def inspect_backup(path: Path, crm: Crm) -> BackupInfo:
    """What a file holds, or BackupRefused if it is not a crm database we can restore."""
    from crm_tui.store.migrate import head_revision

    path = path.expanduser()
    try:
        with path.open("rb") as fh:
            magic = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupRefused("backup.error.unreadable", path=str(path),
                            detail=exc.strerror or str(exc)) from exc
    if magic != SQLITE_MAGIC:
        raise BackupRefused("backup.error.not_sqlite", path=str(path))
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            missing = [name for name in REQUIRED_TABLES if name not in tables]
            if missing:
                raise BackupRefused("backup.error.not_crm", path=str(path), missing=", ".join(missing))
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else ""
            customers = conn.execute("SELECT count(*) FROM customer").fetchone()[0]
            events = conn.execute("SELECT count(*) FROM audit_event").fetchone()[0]
            key_ids: set[str] = set()
            for col in ("national_id_enc", "phone_enc", "bank_account_enc"):
                for (token,) in conn.execute(
                        f"SELECT DISTINCT substr({col}, 1, instr({col}, '$') - 1) FROM customer "
                        f"WHERE {col} IS NOT NULL"):
                    key_ids.add(token)
    except sqlite3.DatabaseError as exc:
        raise BackupRefused("backup.error.corrupt", path=str(path), detail=str(exc)) from exc
    if not _known_revision(revision):
        raise BackupRefused("backup.error.unknown_revision", path=str(path), revision=revision or "-")
    unknown_keys = sorted(k for k in key_ids if k not in crm.keys.keys)
    if unknown_keys:
        raise BackupRefused("backup.error.foreign_key", keys=", ".join(unknown_keys))
    return BackupInfo(path, revision, head_revision() or "", customers, events,
                      tuple(sorted(key_ids)))


def restore_database(crm: Crm, actor: Actor, source: Path) -> RestoreReport:
    """Replace the live database's content with `source` (checked first) in one step."""
    require(actor, Perm.BACKUP)
    target = _sqlite_path(crm)
    info = inspect_backup(source, crm)
    if source.expanduser().resolve() == target.resolve():
        raise BackupRefused("backup.error.same_file")
    crm.db.dispose()  # our own pooled connections must not hold the old pages
    replaced: Path | None = None
    if target.exists():
        replaced = target.with_name(target.name + ".before-restore")
        with closing(_connect(target)) as live:
            _copy(live, replaced, safe_files.protected_for(crm, inputs=[source]))
    with closing(sqlite3.connect(f"{info.path.resolve().as_uri()}?mode=ro", uri=True)) as src, \
            closing(_connect(target)) as live:
        src.backup(live)  # one transaction: other connections see old or new, never a mix
        live.execute("PRAGMA journal_mode=WAL")
    for leftover in safe_files.database_files(target):  # restored content is PII: 0600
        safe_files.ensure_private(leftover.path)
    if info.needs_upgrade:  # an older backup is brought forward to this version's schema
        from crm_tui.store.migrate import upgrade

        upgrade(crm.db.write_engine)
    with crm.db.write() as session:
        audit.record(crm.db, session, actor, "db.restore", "database", "", None,
                     {"file": info.path.name, "revision": info.revision,
                      "replaced_copy": replaced.name if replaced else ""})
    return RestoreReport(info, replaced)

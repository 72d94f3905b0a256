"""Engines and sessions. SQLite gets WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE."""

from __future__ import annotations

import functools
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ParamSpec, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from crm_tui.store.files import FILE_MODE, NOFOLLOW, make_private

BUSY_TIMEOUT_MS = 10_000
# PostgreSQL's "try again" answers: serialization_failure and deadlock_detected.
RETRY_SQLSTATES = frozenset({"40001", "40P01"})
RETRY_ATTEMPTS = 5
SQLITE_BUSY = 5  # sqlite3.SQLITE_BUSY: "database is locked"

P = ParamSpec("P")
R = TypeVar("R")


def is_retryable(exc: BaseException) -> bool:
    """PostgreSQL's serialization failure or deadlock; or SQLite still busy after the busy
    timeout (a starved machine with a long writer queue): in every case the transaction was
    rolled back, nothing was written."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in RETRY_SQLSTATES:
        return True
    return getattr(orig, "sqlite_errorcode", None) == SQLITE_BUSY


def retry_transaction(fn: Callable[P, R]) -> Callable[P, R]:
    """Re-run a whole-transaction function when PostgreSQL reports a serialization failure or
    a deadlock, or SQLite stays busy past its timeout (the transaction was rolled back, so
    running it again is safe), a bounded
    number of times with a short jittered pause. The function must do nothing but its one
    `db.write()` transaction; anything else (a conflict, a rule) passes straight through."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(1, RETRY_ATTEMPTS + 1):
            try:
                return fn(*args, **kwargs)
            except DBAPIError as exc:
                if attempt == RETRY_ATTEMPTS or not is_retryable(exc):
                    raise
                time.sleep(random.uniform(0, 0.01 * 2 ** attempt))
        raise AssertionError("unreachable")

    return wrapper


def default_sqlite_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("crm-tui", appauthor=False)) / "crm.db"


def resolve_url(db: str | os.PathLike[str] | None = None) -> str:
    """`--db PATH` (or the caller's `CRM_DATABASE_URL` setting) wins, else the SQLite file in
    the data dir."""
    if db:
        s = str(db)
        return s if "://" in s else f"sqlite:///{Path(s).expanduser().resolve()}"
    path = default_sqlite_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        # 64 MiB page cache: blind indexes are random keys, so index pages are touched
        # all over; the 2 MiB default halved bulk-insert speed (measured 10.8k → 21.1k rows/s).
        cur.execute("PRAGMA cache_size=-65536")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _private_sqlite_file(path: Path) -> None:
    """The database holds PII in plaintext columns: create it 0600 before SQLite does, and
    narrow an older file. SQLite gives -wal/-shm the database file's own mode, so they follow."""
    if str(path) in ("", ":memory:") or path.name.startswith("file:"):
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW, FILE_MODE)
        os.close(fd)
    except FileExistsError:
        pass
    except OSError:
        return  # no directory yet, read-only place: SQLite reports it in its own words
    for suffix in ("", "-wal", "-shm"):
        make_private(path.with_name(path.name + suffix))


class Database:
    """One store: a write engine (serialised writers) and a read engine."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # The audit chain's MAC key, set by the domain's Crm handle (the store holds no keys).
        self.audit_key: bytes | None = None
        if self.is_sqlite:
            _private_sqlite_file(Path(url.removeprefix("sqlite:///")))
            self.write_engine = _sqlite_engine(url, immediate=True)
            self.read_engine = _sqlite_engine(url, immediate=False)
        else:
            self.write_engine = create_engine(url, pool_pre_ping=True)
            self.read_engine = self.write_engine

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        return Path(self.write_engine.url.database or "")

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: commits on success, rolls back on any error."""
        with Session(self.write_engine, expire_on_commit=False) as session:
            session.info["crm_db"] = self  # commit hooks (row seals) find their key through it
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        # Closing (not rolling back) ends the transaction without expiring loaded rows.
        with Session(self.read_engine, expire_on_commit=False) as session:
            yield session

    def lock_audit_chain(self, session: Session) -> None:
        """Serialise audit appends. SQLite writers are already serial (BEGIN IMMEDIATE)."""
        if not self.is_sqlite:
            session.execute(text("SELECT pg_advisory_xact_lock(424242)"))

    def dispose(self) -> None:
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()

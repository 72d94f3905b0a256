"""Every file the product writes goes through here: never onto the live database, its
-wal/-shm, the key file or the file being read, never through a link, never with old rights.

How a write works: the target is checked against the protected files by resolved path AND by
(device, inode) — a hard link or a second path to the database is caught too. The content goes
into a new temporary file in the target's directory, opened ``O_CREAT|O_EXCL|O_NOFOLLOW`` with
mode 0600 (so it cannot be a pre-planted link and never exists with wider rights), is fsynced,
and is renamed over the target with ``os.replace``. A rename replaces a symlink at the target
instead of writing through it, and the result carries the new file's 0600, not the old rights.

Use `atomic_output` for streamed text/bytes, `write_bytes`/`write_text` for small files, and
`reserve`/`commit` when another library (SQLite's backup API) writes the file by name.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from crm_tui.domain.kernel.errors import DomainError
from crm_tui.store import files

if TYPE_CHECKING:
    from crm_tui.domain.kernel.context import Crm

FILE_MODE = files.FILE_MODE


class UnsafeOutput(DomainError):
    """The chosen output path would overwrite something the product must keep."""

    key = "safe_files.error.refused"


@dataclass(frozen=True)
class Protected:
    """A file that must never be written over; `what` names it in the message (a catalog key)."""

    path: Path
    what: str  # "database" | "wal" | "shm" | "key" | "input" | "source"


def _expand(path: os.PathLike[str] | str) -> Path:
    return Path(path).expanduser()


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a link loop: compare by the absolute name instead
        return Path(os.path.abspath(path))


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def database_files(db_path: os.PathLike[str] | str | None) -> list[Protected]:
    """A SQLite database and the two files SQLite keeps beside it."""
    if not db_path:
        return []
    base = _expand(db_path)
    return [Protected(base, "database"),
            Protected(base.with_name(base.name + "-wal"), "wal"),
            Protected(base.with_name(base.name + "-shm"), "shm"),
            Protected(base.with_name(base.name + "-journal"), "wal")]


def protected_for(crm: Crm | None, *, inputs: Iterable[os.PathLike[str] | str] = ()) -> list[Protected]:
    """What a write made through `crm` must spare: its database, WAL, SHM, key file, inputs."""
    out: list[Protected] = []
    if crm is not None:
        out += database_files(crm.db.sqlite_path)
        if crm.key_file is not None:
            out.append(Protected(_expand(crm.key_file), "key"))
    out += [Protected(_expand(p), "input") for p in inputs]
    return out


def check_output(path: os.PathLike[str] | str, protected: Iterable[Protected]) -> Path:
    """`path` (expanded, absolute) if writing it spares every protected file, else UnsafeOutput."""
    target = _expand(path)
    resolved = _resolved(target)
    ident = _identity(target)
    for item in protected:
        same_name = _resolved(item.path) == resolved
        other = _identity(item.path)
        same_file = ident is not None and other is not None and ident == other
        if same_name or same_file:
            raise UnsafeOutput(f"safe_files.error.{item.what}", path=str(target))
    if target.is_dir():
        raise UnsafeOutput("safe_files.error.is_dir", path=str(target))
    if not target.parent.is_dir():
        raise UnsafeOutput("safe_files.error.no_dir", path=str(target.parent))
    return Path(os.path.abspath(target))


def reserve(path: os.PathLike[str] | str, protected: Iterable[Protected] = ()) -> tuple[Path, int]:
    """Check `path`, then create a new 0600 temporary file beside it: (temp path, open fd)."""
    target = check_output(path, list(protected))
    try:
        return files.new_private_temp(target)
    except OSError as exc:
        raise UnsafeOutput("safe_files.error.io", path=str(target),
                           detail=exc.strerror or str(exc)) from exc


def commit(tmp: Path, path: os.PathLike[str] | str, protected: Iterable[Protected] = ()) -> Path:
    """fsync `tmp` and rename it over `path` (checked again: the target may have changed)."""
    target = check_output(path, list(protected))
    try:
        files.publish(tmp, target)
    except OSError as exc:
        raise UnsafeOutput("safe_files.error.io", path=str(target),
                           detail=exc.strerror or str(exc)) from exc
    return target


def discard(tmp: Path) -> None:
    with contextlib.suppress(OSError):
        tmp.unlink()


@contextmanager
def atomic_output(path: os.PathLike[str] | str, protected: Iterable[Protected] = (), *,
                  binary: bool = False, encoding: str = "utf-8",
                  newline: str | None = None) -> Iterator[IO[Any]]:
    """A file handle on a new 0600 temp file; on a clean exit it replaces `path`."""
    guard = list(protected)
    tmp, fd = reserve(path, guard)
    try:
        if binary:
            fh: IO[Any] = os.fdopen(fd, "wb")
        else:
            fh = os.fdopen(fd, "w", encoding=encoding, newline=newline)
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        commit(tmp, path, guard)
    except BaseException:
        discard(tmp)
        raise


@contextmanager
def atomic_path(path: os.PathLike[str] | str, protected: Iterable[Protected] = ()) -> Iterator[Path]:
    """A reserved 0600 temp *path* for libraries that write by name (openpyxl, sqlite3)."""
    guard = list(protected)
    tmp, fd = reserve(path, guard)
    os.close(fd)
    try:
        yield tmp
        commit(tmp, path, guard)
    except BaseException:
        discard(tmp)
        raise


def write_bytes(path: os.PathLike[str] | str, data: bytes,
                protected: Iterable[Protected] = ()) -> Path:
    with atomic_output(path, protected, binary=True) as fh:
        fh.write(data)
    return _expand(path)


def write_text(path: os.PathLike[str] | str, text: str, protected: Iterable[Protected] = (), *,
               encoding: str = "utf-8") -> Path:
    with atomic_output(path, protected, encoding=encoding) as fh:
        fh.write(text)
    return _expand(path)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def defuse(value: Any) -> Any:
    """Make a text cell inert in a spreadsheet: `=SUM(…)` becomes `'=SUM(…)`.

    Every CSV/XLSX the product writes (exports, rejects files) passes its cells through here;
    full-width ＝＋－＠ are included because some spreadsheet builds accept them as formulas.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def ensure_private(path: os.PathLike[str] | str) -> None:
    """Narrow an existing file the product owns (database, WAL, SHM) to 0600."""
    files.make_private(_expand(path))

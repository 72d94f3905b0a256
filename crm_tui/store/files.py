"""The low-level private, atomic file write (the store cannot import the domain's safe_files).

A new temporary file beside the target, opened ``O_CREAT|O_EXCL|O_NOFOLLOW`` with mode 0600,
fsynced, then renamed over the target: the file never exists with wider rights, a link at the
temp name cannot be planted, and a link at the target is replaced instead of followed.
`crm_tui.domain.kernel.safe_files` adds the checks against the live database, key and input.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

FILE_MODE = 0o600
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def new_private_temp(target: Path) -> tuple[Path, int]:
    """A new, empty 0600 file in `target`'s directory: (its path, an fd open for writing)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    for _ in range(20):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, flags, FILE_MODE)
        except FileExistsError:
            continue
        os.fchmod(fd, FILE_MODE)  # the umask may only narrow it; make it exactly 0600
        return tmp, fd
    raise FileExistsError(f"no free temporary name beside {target}")


def publish(tmp: Path, target: Path) -> None:
    """fsync `tmp`, rename it over `target`, fsync the directory."""
    fd = os.open(tmp, os.O_RDONLY | NOFOLLOW)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, target)
    with contextlib.suppress(OSError):
        dfd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def write_private(target: Path, data: bytes) -> None:
    """Write `data` to `target` privately and atomically (no protection checks: see safe_files)."""
    tmp, fd = new_private_temp(target)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        publish(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def make_private(path: Path) -> None:
    """Narrow an existing regular file the product owns (database, WAL, SHM) to 0600."""
    with contextlib.suppress(FileNotFoundError, PermissionError):
        if not path.is_symlink() and (path.stat().st_mode & 0o077):
            os.chmod(path, FILE_MODE)

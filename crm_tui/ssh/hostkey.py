"""The gateway's host key: generated on first start, written atomically with 0600 rights."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import asyncssh

from crm_tui.domain.kernel import safe_files
from crm_tui.domain.kernel.context import Crm


def _write_new(path: Path, data: bytes, protected: list[safe_files.Protected]) -> None:
    """A checked 0600 O_EXCL temp file beside the target (safe_files), fsynced, then linked
    into place without replacing: two gateways starting at once end up with the one key
    that won, and both load it from disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp, fd = safe_files.reserve(path, protected)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):  # another gateway wrote it first
            os.link(tmp, path)
    finally:
        safe_files.discard(tmp)


def load_or_create(path: Path, crm: Crm | None = None) -> asyncssh.SSHKey:
    if not path.exists():
        key = asyncssh.generate_private_key("ssh-ed25519", comment="crm-tui gateway")
        _write_new(path, key.export_private_key("openssh"), safe_files.protected_for(crm))
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        os.chmod(path, 0o600)  # someone loosened it; a host key is nobody else's business
    return asyncssh.read_private_key(str(path))


def default_path(db_url: str) -> Path:
    """Beside a SQLite file; else in the user data dir."""
    if db_url.startswith("sqlite:///"):
        return Path(db_url.removeprefix("sqlite:///") + ".ssh_host_ed25519_key")
    from platformdirs import user_data_dir

    return Path(user_data_dir("crm-tui", appauthor=False)) / "ssh_host_ed25519_key"

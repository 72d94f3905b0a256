"""The gateway's host key: generated on first start, written atomically with 0600 rights."""

from __future__ import annotations

import os
from pathlib import Path

import asyncssh


def _write_new(path: Path, data: bytes) -> None:
    """Temp file (O_EXCL, 0600) beside the target, fsync, then a no-replace link into place:
    two gateways starting at once both end up with the one key that won."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # fails if another process wrote the key first
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)


def load_or_create(path: Path) -> asyncssh.SSHKey:
    if not path.exists():
        key = asyncssh.generate_private_key("ssh-ed25519", comment="crm-tui gateway")
        _write_new(path, key.export_private_key("openssh"))
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

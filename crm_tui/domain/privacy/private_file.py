"""Writing a file of personal data: 0600 from its first byte, atomic, never over an existing
file, the live database or its key. (To be swapped for `kernel.safe_files` once issue 7's
output-path rules land in main; this is the one function that would change.)"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from crm_tui.domain.kernel.errors import Blocked


def write_private(path: Path, write: Callable[[Path], None],
                  forbidden: tuple[Path | None, ...] = ()) -> Path:
    """Have `write(tmp)` fill a 0600 temp file beside `path`, then rename it into place.
    The temp file is created with O_EXCL, so nobody else's file or link is written through."""
    path = Path(path).expanduser()
    if not path.parent.is_dir():
        raise Blocked("privacy.error.no_dir", path=str(path.parent))
    target = path.parent.resolve() / path.name
    for other in forbidden:
        if other is not None and target == Path(other).resolve():
            raise Blocked("privacy.error.exists", path=str(path))
    if path.exists() or path.is_symlink():
        raise Blocked("privacy.error.exists", path=str(path))
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o600)  # a library may have re-created the file
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        if path.exists():
            raise Blocked("privacy.error.exists", path=str(path))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path

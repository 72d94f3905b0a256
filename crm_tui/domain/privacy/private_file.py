"""Writing a file of personal data through `kernel.safe_files` (0600 from its first byte,
atomic, never the live database, its WAL/SHM or the key), and never over an existing file:
a customer's copy file is evidence of what was handed over, not something to overwrite."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from crm_tui.domain.kernel import safe_files
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import Blocked


def write_private(crm: Crm, path: Path, write: Callable[[Path], None]) -> Path:
    """Have `write(tmp)` fill a reserved 0600 temp file beside `path`, then publish it."""
    protected = safe_files.protected_for(crm)
    target = safe_files.check_output(Path(path).expanduser(), protected)
    if target.exists() or target.is_symlink():
        raise Blocked("privacy.error.exists", path=str(target))
    with safe_files.atomic_path(target, protected) as tmp:
        write(tmp)
        if target.exists():
            raise Blocked("privacy.error.exists", path=str(target))
    return target

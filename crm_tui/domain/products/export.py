"""Writing a CSV the safe way: a temp file beside the target with 0600 rights, then an
atomic rename; never over the live database or key. Formula-like cells are defused."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from crm_tui.domain.kernel.errors import Blocked

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    if text[:1] in _FORMULA and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def write_csv_atomic(path: Path, headers: Sequence[str], rows: Iterable[Sequence[Any]],
                     *, protected: Iterable[Path] = ()) -> int:
    """Write `rows` under `headers` to `path` (UTF-8 with BOM, so Excel reads Chinese);
    returns the number of rows. Refuses to overwrite a `protected` file."""
    path = Path(path)
    target = path.resolve()
    for p in protected:
        if Path(p).resolve() == target:
            raise Blocked("products.error.protected_path", path=str(path))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    n = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(headers)
            for row in rows:
                w.writerow([_cell(c) for c in row])
                n += 1
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return n

"""Writing the catalogue's CSVs (rejects files, exported lists) through `kernel.safe_files`:
a new 0600 temp file beside the target, fsync, atomic rename; never over the live database,
its WAL/SHM, the key or the file being read; formula-like cells defused."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from crm_tui.domain.kernel.safe_files import Protected, atomic_output, defuse


def write_csv_atomic(path: Path, headers: Sequence[str], rows: Iterable[Sequence[Any]],
                     *, protected: Iterable[Protected] = ()) -> int:
    """Write `rows` under `headers` to `path` (UTF-8 with BOM, so Excel reads Chinese);
    returns the number of rows."""
    n = 0
    with atomic_output(path, list(protected), encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(headers)
        for row in rows:
            w.writerow(["" if c is None else defuse(c) for c in row])
            n += 1
    return n

"""What every import (customers, leads, tickets) gives back: a report of its rows and a
rejects file, filled the same way. `running(...)` opens both around an import; rejecting a
row counts it, copies its cells and reasons into the rejects file and tells the caller.

The rejects file holds the operator's own input (plaintext, as in the source file) plus the
reason. It is written through `safe_files` (a new 0600 temp file renamed into place on
close, never the database, the key or the file being read) with formula cells defused.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from crm_tui.domain.data_io.readers import RowProblem
from crm_tui.domain.kernel import safe_files
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, translate


@dataclass
class ImportReport:
    file: str
    encoding: str | None
    rows: int = 0
    stored: int = 0
    already_imported: int = 0
    rejected: int = 0
    chunks: int = 0
    rejects_path: Path | None = None
    elapsed: float = 0.0
    dry_run: bool = False
    strict_refused: bool = False

    @property
    def ok(self) -> bool:
        return self.rejected == 0


def default_rejects_path(path: Path) -> Path:
    return path.with_name(path.name + ".rejects.csv")


class Rejects:
    """The rejected rows with their original cells and the reasons, created on first use."""

    def __init__(self, path: Path, headers: list[str], protected: list[safe_files.Protected]) -> None:
        self.path = safe_files.check_output(path, protected)  # refused before any row is stored
        self.headers = headers
        self._protected = protected
        self._tmp: Path | None = None
        self._fh: IO[str] | None = None
        self._writer: Any = None

    def add(self, cells: list[Any] | RowProblem, errors: list[FieldError]) -> None:
        if self._writer is None:
            self._tmp, fd = safe_files.reserve(self.path, self._protected)
            self._fh = open(fd, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
            self._writer = csv.writer(self._fh)
            # the rejects file is for the operator who ran the import: her language
            self._writer.writerow([safe_files.defuse(h) for h in
                                   [*self.headers, translate("import.rejects.error_column")]])
        if isinstance(cells, RowProblem):
            cells = [cells.text]
        row = ["" if c is None else (c.isoformat() if isinstance(c, date | datetime) else str(c))
               for c in cells]
        row += [""] * (len(self.headers) - len(row))
        self._writer.writerow([safe_files.defuse(c) for c in
                               [*row, " | ".join(e.line() for e in errors)]])

    @property
    def used(self) -> bool:
        return self._writer is not None

    def close(self) -> None:
        if self._fh is not None and self._tmp is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None
            safe_files.commit(self._tmp, self.path, self._protected)


@dataclass
class Outcome:
    """An import's report and rejects file, and the caller's error callback."""

    report: Any  # ImportReport or an importer's extension of it
    rejects: Rejects
    on_error: Callable[[FieldError], None] | None = None

    def reject(self, cells: list[Any] | RowProblem, errors: list[FieldError]) -> None:
        """One rejected row: counted, copied with its reasons, told to the caller."""
        self.report.rejected += 1
        self.rejects.add(cells, errors)
        if self.on_error:
            for e in errors:
                self.on_error(e)


@contextmanager
def running(crm: Crm, path: Path, headers: list[str], report: Any, rejects_path: Path | None,
            on_error: Callable[[FieldError], None] | None,
            started: float | None = None) -> Iterator[Outcome]:
    """The rejects file refuses a protected path before anything is stored; on the way out
    it is committed and the report gets its path and the time since `started` (default:
    now; `time.perf_counter()` when the import began)."""
    started = time.perf_counter() if started is None else started
    rejects = Rejects(rejects_path or default_rejects_path(path), headers,
                      safe_files.protected_for(crm, inputs=[path]))
    outcome = Outcome(report, rejects, on_error)
    try:
        yield outcome
    finally:
        rejects.close()
        outcome.report.rejects_path = rejects.path if rejects.used else None
        outcome.report.elapsed = time.perf_counter() - started

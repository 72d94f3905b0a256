"""What every import reader gives back: a table of `(row number, cells)` with its headers
mapped to fields, a row it could not split (`RowProblem`), or a refusal of the whole file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crm_tui.domain.kernel.errors import DomainError


class ImportFileError(DomainError):
    """The file as a whole cannot be imported (encoding, format, headers)."""

    key = "import.error.file"


@dataclass(frozen=True)
class RowProblem:
    """A row the reader could not split into cells; the importer rejects it by this reason."""

    key: str
    params: dict[str, Any]
    text: str = ""


Mapper = Callable[[list[str]], list[str | None]]


@dataclass
class TableFile:
    """An opened customer file: its headers, their fields and a row iterator."""

    path: Path
    kind: str  # csv | xlsx
    encoding: str | None
    headers: list[str]
    fields: list[str | None]
    estimated_rows: int
    _rows: Iterator[tuple[int, list[Any]]]

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        return self._rows

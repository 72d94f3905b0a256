"""Reading customer files as branch offices produce them: CSV in UTF-8 (with or without BOM),
GBK/GB18030 or UTF-16 (Excel's "Unicode text"), and XLSX; English or Chinese headers.

A file is read as a stream of `(row number, cells)`; row numbers are the ones a person sees
in a spreadsheet (the header is row 1, the first data row is row 2), and in a CSV whose
quoted cells hold line breaks, the line in the file where the record starts.
"""

from __future__ import annotations

import codecs
import csv
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from crm_tui.domain.customers.fields import import_aliases
from crm_tui.domain.kernel.errors import DomainError

REQUIRED = ("name", "national_id")

# Canonical field → the headers people use for it (compared after `header_key`); declared
# once, in the customer field registry.
ALIASES: dict[str, tuple[str, ...]] = import_aliases()
FIELDS = tuple(ALIASES)

_UNITS = re.compile(r"[(（][^)）]*[)）]$")  # 资产规模（元）, AUM (CNY)


def header_key(text: str) -> str:
    value = unicodedata.normalize("NFKC", text or "").strip().lower()
    value = _UNITS.sub("", value)
    return re.sub(r"[\s_\-*:：]", "", value)


_LOOKUP = {header_key(alias): field for field, aliases in ALIASES.items() for alias in aliases}


class ImportFileError(DomainError):
    """The file as a whole cannot be imported (encoding, format, headers)."""

    key = "import.error.file"


def map_headers(headers: list[str], extra: dict[str, str] | None = None) -> list[str | None]:
    """The canonical field of each column (None for a blank header), or ImportFileError.
    `extra` maps more header keys (see `header_key`) to fields: the custom fields' keys and
    labels in both languages."""
    fields: list[str | None] = []
    seen: dict[str, str] = {}
    for col, raw in enumerate(headers, start=1):
        text = str(raw or "").strip()
        if not text:
            fields.append(None)
            continue
        key = header_key(text)
        field = _LOOKUP.get(key) or (extra or {}).get(key)
        if field is None:
            raise ImportFileError("import.error.unknown_header", header=text, column=col,
                                  known=", ".join(FIELDS))
        if field in seen:
            raise ImportFileError("import.error.duplicate_header", header=text, other=seen[field])
        seen[field] = text
        fields.append(field)
    missing = [f for f in REQUIRED if f not in seen]
    if missing:
        raise ImportFileError("import.error.missing_header", fields=", ".join(missing))
    return fields


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


# -- CSV ------------------------------------------------------------------------------------

_BLOCK = 1 << 20


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as fh:
            while block := fh.read(_BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path) -> str:
    """UTF-16 by its BOM; then strict UTF-8 (BOM or not); then strict GB18030 (a superset of
    GBK and GB2312); then charset-normalizer's guess; else a clear refusal."""
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8-sig", "gb18030"):
        if _decodes(path, encoding):
            return encoding
    from charset_normalizer import from_path

    best = from_path(path).best()
    if best is None or best.encoding is None:
        raise ImportFileError("import.error.encoding", path=path.name)
    return best.encoding


def _count_lines(path: Path) -> int:
    n = 0
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            n += block.count(b"\n")
    return n


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _open_csv(path: Path, mapper: Mapper) -> TableFile:
    encoding = detect_encoding(path)
    fh = path.open("r", encoding=encoding, errors="strict", newline="")
    first = fh.readline()
    fh.seek(0)
    reader = csv.reader(fh, delimiter=_delimiter(first))
    try:
        headers = next(reader)
    except StopIteration:
        fh.close()
        raise ImportFileError("import.error.empty", path=path.name) from None
    fields = mapper(headers)
    estimated = max(_count_lines(path) - 1, 0)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            # A quoted cell may hold line breaks: a record is numbered by the file line it
            # starts on, as a text editor shows it (`line_num` counts physical lines read).
            last = reader.line_num
            for cells in reader:
                number, last = last + 1, reader.line_num
                if any(cells):
                    yield number, cells
        except csv.Error as exc:
            raise ImportFileError("import.error.csv", path=path.name, detail=str(exc)) from exc
        finally:
            fh.close()

    return TableFile(path, "csv", encoding, headers, fields, estimated, rows())


# -- XLSX -----------------------------------------------------------------------------------


def _cell(value: Any, field: str | None) -> Any:
    """Excel cells arrive typed; give the validators what they expect."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime | date):
        if field in ("birth_date", "created_at"):
            return value
        return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15 and field != "aum":
        return str(int(value))
    return str(value)


def _open_xlsx(path: Path, mapper: Mapper) -> TableFile:
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise ImportFileError("import.error.xlsx", path=path.name, detail=str(exc)) from exc
    ws = wb.active if wb.active is not None else wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    try:
        header_cells = next(it)
    except StopIteration:
        wb.close()
        raise ImportFileError("import.error.empty", path=path.name) from None
    headers = [_cell(v, None) for v in header_cells]
    while headers and not headers[-1]:
        headers.pop()
    try:
        fields = mapper(headers)
    except ImportFileError:
        wb.close()
        raise
    estimated = max((ws.max_row or 1) - 1, 0)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, values in enumerate(it, start=2):
                cells = [_cell(v, fields[i] if i < len(fields) else None)
                         for i, v in enumerate(values)]
                if any(c != "" for c in cells):
                    yield number, cells
        finally:
            wb.close()

    return TableFile(path, "xlsx", None, headers, fields, estimated, rows())


def open_table(path: Path, mapper: Mapper | None = None) -> TableFile:
    """Open a CSV or XLSX customer file (or, with its own header `mapper`, another entity's,
    e.g. leads); ImportFileError says why one cannot be read."""
    mapper = mapper or map_headers
    path = Path(path)
    if not path.is_file():
        raise ImportFileError("import.error.not_found", path=str(path))
    suffix = path.suffix.lower()
    with path.open("rb") as fh:
        magic = fh.read(8)
    if suffix == ".xls" or magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError("import.error.xls", path=path.name)
    if suffix in (".xlsx", ".xlsm") or magic.startswith(b"PK\x03\x04"):
        return _open_xlsx(path, mapper)
    return _open_csv(path, mapper)

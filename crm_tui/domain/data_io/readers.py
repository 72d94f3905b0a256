"""Reading customer files as branch offices produce them: CSV in UTF-8 (with or without BOM),
GBK/GB18030 or UTF-16 (Excel's "Unicode text"), and XLSX; English or Chinese headers.

A file is read as a stream of `(row number, cells)`; row numbers are the ones a person sees
in a spreadsheet (the header is row 1, the first data row is row 2).
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


# The longest CSV record (all its fields, quotes included) read as one row: 131,072 characters,
# Python's csv default field limit. A longer record, or a quote that opens a field and does not
# close within it, is a row error naming the line where the record opened; reading goes on
# from the next line.
MAX_RECORD_CHARS = 131_072

_START, _FIELD, _QUOTED, _QUOTE_IN_QUOTED = range(4)


@dataclass(frozen=True)
class RowProblem:
    """A row the reader could not split into cells; the importer rejects it by this reason."""

    key: str
    params: dict[str, Any]
    text: str = ""


def _scan(line: str, state: int, delim: str) -> int:
    """The csv module's quoting state after `line` (default dialect, doublequote): a record
    is open at the end of a line only when that line ends inside a quoted field."""
    for c in line:
        if state == _QUOTED:
            if c == '"':
                state = _QUOTE_IN_QUOTED
        elif state == _QUOTE_IN_QUOTED:
            state = _QUOTED if c == '"' else (_START if c == delim else _FIELD)
        elif c == delim:
            state = _START
        elif c in "\r\n":
            state = _START
        elif state == _START:
            state = _QUOTED if c == '"' else _FIELD
    return state


def _records(fh: Any, delim: str) -> Iterator[tuple[int, str | RowProblem]]:
    """Complete records with the line each opened on; a runaway quote or an over-long record
    becomes a RowProblem at its opening line, and reading resumes on the line after it."""
    from collections import deque

    pushback: deque[tuple[int, str]] = deque()
    line_no = 1  # the header was line 1

    def next_line() -> tuple[int, str] | None:
        nonlocal line_no
        if pushback:
            return pushback.popleft()
        line = fh.readline()
        if not line:
            return None
        line_no += 1
        return line_no, line

    while (item := next_line()) is not None:
        start, line = item
        if '"' not in line:
            if len(line) > MAX_RECORD_CHARS:
                yield start, RowProblem("import.error.too_long", {"line": start,
                                                                  "limit": MAX_RECORD_CHARS})
                continue
            yield start, line
            continue
        state = _scan(line, _START, delim)
        parts = [(start, line)]
        size = len(line)
        while state == _QUOTED and size <= MAX_RECORD_CHARS:
            more = next_line()
            if more is None:
                break
            parts.append(more)
            size += len(more[1])
            state = _scan(more[1], state, delim)
        if state == _QUOTED or size > MAX_RECORD_CHARS:
            key = "import.error.runaway_quote" if state == _QUOTED else "import.error.too_long"
            yield start, RowProblem(key, {"line": start, "limit": MAX_RECORD_CHARS},
                                    line[:200])
            pushback.extendleft(reversed(parts[1:]))  # read on from the line after it
            continue
        yield start, "".join(p for _, p in parts)


class _Feed:
    """One record at a time into a single csv.reader (keeps the C parser's speed)."""

    text = ""

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        text, self.text = self.text, ""
        return text


def _open_csv(path: Path, mapper: Mapper) -> TableFile:
    encoding = detect_encoding(path)
    fh = path.open("r", encoding=encoding, errors="strict", newline="")
    first = fh.readline()
    fh.seek(0)
    delim = _delimiter(first)
    header_reader = csv.reader([first], delimiter=delim)
    try:
        headers = next(header_reader) if first.strip() else []
    except csv.Error as exc:
        fh.close()
        raise ImportFileError("import.error.csv", path=path.name, detail=str(exc)) from exc
    if not headers:
        fh.close()
        raise ImportFileError("import.error.empty", path=path.name)
    fh.readline()
    fields = mapper(headers)
    estimated = max(_count_lines(path) - 1, 0)
    csv.field_size_limit(max(csv.field_size_limit(), MAX_RECORD_CHARS * 2))

    def rows() -> Iterator[tuple[int, list[Any] | RowProblem]]:
        feed = _Feed()
        reader = csv.reader(feed, delimiter=delim)
        number = 1
        try:
            # a record is numbered by the file line it starts on, as a text editor shows it
            # (a quoted cell may hold line breaks)
            for number, record in _records(fh, delim):
                if isinstance(record, RowProblem):
                    yield number, record
                    continue
                feed.text = record
                try:
                    cells = next(reader)
                except (csv.Error, StopIteration) as exc:
                    reader = csv.reader(feed, delimiter=delim)
                    yield number, RowProblem("import.error.csv_row", {"detail": str(exc)},
                                             record[:200])
                    continue
                if any(cells):
                    yield number, cells
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


# A workbook is a zip of XML: its members' declared sizes are checked before any parsing (a
# 1 MB file can unpack to gigabytes of whitespace), and the XML is parsed through defusedxml
# (openpyxl uses it when it is installed: no entity expansion, no external entities).
MAX_XLSX_UNCOMPRESSED = 512 * 1024 * 1024
MAX_XLSX_RATIO = 100


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:240]


def check_xlsx_container(path: Path) -> None:
    """Refuse a zip bomb by its members' sizes, before openpyxl reads a byte of XML."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportFileError("import.error.xlsx", path=path.name, detail=str(exc)) from exc
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    worst = max((i.file_size / max(i.compress_size, 1) for i in infos if i.file_size > 1 << 20),
                default=0)
    if total > MAX_XLSX_UNCOMPRESSED or max(worst, total / packed) > MAX_XLSX_RATIO:
        raise ImportFileError("import.error.xlsx_bomb", path=path.name,
                              size=f"{total / 1048576:,.0f}", ratio=f"{total / packed:,.0f}",
                              limit=f"{MAX_XLSX_UNCOMPRESSED // 1048576}",
                              max_ratio=MAX_XLSX_RATIO)


def _open_xlsx(path: Path, mapper: Mapper) -> TableFile:
    from zipfile import BadZipFile

    import defusedxml  # noqa: F401 - openpyxl parses through it when it can import it
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    check_xlsx_container(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError) as exc:
        raise ImportFileError("import.error.xlsx", path=path.name, detail=_one_line(exc)) from exc
    except Exception as exc:  # defusedxml's EntitiesForbidden, a broken part: the file
        raise ImportFileError("import.error.xlsx", path=path.name, detail=_one_line(exc)) from exc
    ws = wb.active if wb.active is not None else wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    try:
        header_cells = next(it)
    except StopIteration:
        wb.close()
        raise ImportFileError("import.error.empty", path=path.name) from None
    except Exception as exc:  # entity bombs and broken sheet XML surface on the first read
        wb.close()
        raise ImportFileError("import.error.xlsx", path=path.name, detail=_one_line(exc)) from exc
    headers = [_cell(v, None) for v in header_cells]
    while headers and not headers[-1]:
        headers.pop()
    try:
        fields = mapper(headers)
    except ImportFileError:
        wb.close()
        raise
    estimated = max((ws.max_row or 1) - 1, 0)

    def rows() -> Iterator[tuple[int, list[Any] | RowProblem]]:
        number = 1
        try:
            while True:
                try:
                    values = next(it)
                except StopIteration:
                    return
                except Exception as exc:  # the sheet's XML broke mid-way: name where, stop
                    yield number + 1, RowProblem("import.error.xlsx_row",
                                                 {"detail": f"{type(exc).__name__}: {exc}"})
                    return
                number += 1
                try:
                    cells = [_cell(v, fields[i] if i < len(fields) else None)
                             for i, v in enumerate(values)]
                except Exception as exc:  # noqa: BLE001 - any cell: a row error, not the file
                    yield number, RowProblem("import.error.xlsx_row",
                                             {"detail": f"{type(exc).__name__}: {exc}"})
                    continue
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

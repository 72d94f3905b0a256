"""CSV as branch offices produce it: UTF-8 (with or without BOM), GBK/GB18030 or UTF-16
(Excel's "Unicode text"), comma, tab or semicolon. Records are numbered by the file line they
start on; a runaway quote or an over-long record is a row problem at the line where it opened,
and reading goes on from the next line."""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crm_tui.domain.data_io.table_file import ImportFileError, Mapper, RowProblem, TableFile

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


def _closed_line(delim: str) -> re.Pattern[str]:
    """A line whose every quote opens and closes a whole field: a complete record, known
    without the character-by-character `_scan` (most lines with a quoted amount)."""
    d = re.escape(delim)
    cell = f'(?:"(?:[^"]|"")*"|[^"{d}\\r\\n]*)'
    return re.compile(f"{cell}(?:{d}{cell})*\\r?\\n?")


def _records(fh: Any, delim: str) -> Iterator[tuple[int, str | RowProblem]]:
    """Complete records with the line each opened on; a runaway quote or an over-long record
    becomes a RowProblem at its opening line, and reading resumes on the line after it."""
    from collections import deque

    pushback: deque[tuple[int, str]] = deque()
    line_no = 1  # the header was line 1
    closed = _closed_line(delim).fullmatch

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
        if '"' not in line or closed(line):
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


def open_csv(path: Path, mapper: Mapper) -> TableFile:
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

"""Reading customer files as branch offices produce them: CSV in UTF-8 (with or without BOM),
GBK/GB18030 or UTF-16 (Excel's "Unicode text"), and XLSX; English or Chinese headers.

A file is read as a stream of `(row number, cells)`; row numbers are the ones a person sees
in a spreadsheet (the header is row 1, the first data row is row 2).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from crm_tui.domain.customers.fields import import_aliases
from crm_tui.domain.data_io.csv_reader import MAX_RECORD_CHARS, detect_encoding, open_csv
from crm_tui.domain.data_io.table_file import ImportFileError, Mapper, RowProblem, TableFile
from crm_tui.domain.data_io.xlsx_reader import check_xlsx_container, open_xlsx

__all__ = ["ALIASES", "FIELDS", "MAX_RECORD_CHARS", "REQUIRED", "ImportFileError", "Mapper",
           "RowProblem", "TableFile", "check_xlsx_container", "detect_encoding", "header_key",
           "map_headers", "open_table"]

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
        return open_xlsx(path, mapper)
    return open_csv(path, mapper)

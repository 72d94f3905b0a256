"""XLSX workbooks: typed cells given to the validators as text, read through defusedxml,
with the container's sizes checked before any XML is parsed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from crm_tui.domain.data_io.table_file import ImportFileError, Mapper, RowProblem, TableFile


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


def open_xlsx(path: Path, mapper: Mapper) -> TableFile:
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

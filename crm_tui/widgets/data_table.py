"""Textual's DataTable, repainting its rows when new rows widen an auto-width column.

DataTable measures the cells of new rows on idle (`_update_dimensions`) and widens its
auto-width columns then, but its row and cell render caches are keyed by an update counter
that this path does not advance. A row painted between `add_row` and that idle pass (the
cursor row: adding the first row highlights and repaints it at once) kept its too-narrow
cells: the warnings list showed 客户 for 客户A and ¥60 for ¥600,000.00 in about one run in
a dozen under load, until something else repainted the row. Every screen imports the
table from here.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.widgets import DataTable as TextualDataTable
from textual.widgets._data_table import CellType, RowKey


class DataTable(TextualDataTable[CellType]):
    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        before = [column.get_render_width(self) for column in self.ordered_columns]
        super()._update_dimensions(new_rows)
        if [column.get_render_width(self) for column in self.ordered_columns] != before:
            self._update_count += 1  # the caches' key: rows painted with the old widths go
            self.refresh()

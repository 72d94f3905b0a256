"""Figures, percentiles, the printed table and `bench/results.json`."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

RESULTS = Path(__file__).with_name("results.json")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): the value a q% share of samples does not exceed."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    floor: float | None = None
    target: str = ""  # e.g. "<= 10", "<= 1.5x floor", ">= 50000"
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.floor in (None, 0) or self.value is None:
            return None
        return self.value / self.floor  # type: ignore[operator]


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.2f}"


def print_table(figures: Sequence[Figure]) -> None:
    head = ("metric", "value", "unit", "floor", "ratio", "target", "")
    rows = [head] + [
        (f.name, _fmt(f.value), f.unit, _fmt(f.floor), _fmt(f.ratio) + ("x" if f.ratio else ""),
         f.target, {True: "ok", False: "MISSED", None: ""}[f.met] + (f"  {f.note}" if f.note else ""))
        for f in figures
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head) - 1)]
    for i, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [row[j].rjust(widths[j]) for j in (1,)] + [
            row[2].ljust(widths[2]), row[3].rjust(widths[3]), row[4].rjust(widths[4]),
            row[5].ljust(widths[5]), row[6]]
        print("  ".join(cells).rstrip())
        if i == 0:
            print("-" * (sum(widths) + 2 * len(widths)))


def write_results(figures: Sequence[Figure], path: Path = RESULTS) -> None:
    """name → {value, unit, floor}, as `make bench` promises."""
    data = {f.name: {"value": None if f.value is None or math.isnan(f.value) else round(f.value, 4),
                     "unit": f.unit,
                     "floor": None if f.floor is None or math.isnan(f.floor) else round(f.floor, 4)}
            for f in figures}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n")

"""The UI reaches data only through the domain: no screen or widget imports the store,
SQLAlchemy or SQLModel (so none can hold a session or an ORM row)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "crm_tui"
UI = [ROOT / "app.py", ROOT / "palette.py", *(ROOT / "screens").rglob("*.py"),
      *(ROOT / "widgets").rglob("*.py")]
FORBIDDEN = ("crm_tui.store", "sqlalchemy", "sqlmodel")


def test_ui_modules_do_not_import_the_store() -> None:
    bad = []
    for path in UI:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module
                     else [])
            bad += [f"{path.name}: {n}" for n in names if n.startswith(FORBIDDEN)]
    assert bad == []

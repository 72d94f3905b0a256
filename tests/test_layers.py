"""The core must stay importable without the UI (as Harlequin proves for its own core)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "crm_tui"


def test_domain_and_store_do_not_load_textual_or_typer() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "import crm_tui.domain, crm_tui.store\n"
        "for pkg in (crm_tui.domain, crm_tui.store):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        if '.migrations' in m.name: continue\n"
        "        importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('textual', 'typer'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"domain/store pulled in UI modules: {out.stdout}"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_arrows_point_one_way() -> None:
    """store never imports domain or UI; domain never imports screens, widgets, cli, app."""
    for path in (ROOT / "store").rglob("*.py"):
        for name in _imports(path):
            assert not name.startswith(("crm_tui.domain", "crm_tui.screens", "crm_tui.widgets",
                                        "crm_tui.cli", "crm_tui.app")), f"{path}: {name}"
    for path in (ROOT / "domain").rglob("*.py"):
        for name in _imports(path):
            assert not name.startswith(("crm_tui.screens", "crm_tui.widgets", "crm_tui.cli",
                                        "crm_tui.app", "textual", "typer")), f"{path}: {name}"

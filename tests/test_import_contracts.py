"""The import-linter contracts really bite: a copy of the package with `import textual`
planted in a domain module fails `lint-imports`, naming the contract and the line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _lint(where: Path) -> subprocess.CompletedProcess[str]:
    lint = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(lint), "--no-cache"], cwd=where, capture_output=True, text=True,
                          env={"PYTHONPATH": str(where), "PATH": "/usr/bin:/bin"}, timeout=60)


def test_a_planted_forbidden_import_breaks_the_contract(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "crm_tui", tmp_path / "crm_tui",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    clean = _lint(tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    target = tmp_path / "crm_tui" / "domain" / "kernel" / "masking.py"
    lines = target.read_text(encoding="utf-8").splitlines()
    target.write_text("\n".join([*lines, "import textual  # planted by the test"]) + "\n",
                      encoding="utf-8")
    broken = _lint(tmp_path)
    assert broken.returncode != 0
    assert "domain and store never load a UI or the CLI" in broken.stdout
    assert f"crm_tui.domain.kernel.masking -> textual (l.{len(lines) + 1})" in broken.stdout

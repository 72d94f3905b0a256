"""`crm` with no subcommand refuses a database that is not there instead of opening the TUI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_missing_database_is_one_line_and_exit_1(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    out = subprocess.run([sys.executable, "-m", "crm_tui.cli", "--db", str(missing)],
                         capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                         env={"PATH": "/usr/bin:/bin", "CRM_LANG": "en", "HOME": str(tmp_path)})
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        f"crm: no database at {missing}; create one with `crm init --db {missing}`"]
    assert "Traceback" not in out.stderr and not missing.exists()

"""One Settings, read once; the log file; an unexpected error shows one line with an error
id that the log holds with its traceback."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from crm_tui import logs
from crm_tui.cli_commands import errors
from crm_tui.settings import get_settings


@pytest.fixture
def log_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CRM_LOG_DIR", str(tmp_path / "logs"))
    logs.setup_logging()
    return tmp_path / "logs"


def _boom() -> RuntimeError:
    try:
        raise RuntimeError("disk on fire")
    except RuntimeError as exc:
        return exc


def test_settings_are_loaded_once_and_hide_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_KEY", "c2VjcmV0LWtleS1tYXRlcmlhbA==")
    monkeypatch.setenv("CRM_LANG", "zh-CN")
    first = get_settings()
    assert get_settings() is first  # cached
    assert first.key is not None and "c2VjcmV0" not in repr(first)
    assert first.key.get_secret_value() == "c2VjcmV0LWtleS1tYXRlcmlhbA=="
    assert first.lang == "zh-CN"
    monkeypatch.setenv("CRM_DATABASE_URL", "sqlite:////tmp/x.db")
    assert get_settings().database_url == "sqlite:////tmp/x.db"  # a changed environment reloads


def test_nothing_else_reads_crm_variables() -> None:
    root = Path(__file__).resolve().parents[1] / "crm_tui"
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if p.name != "settings.py" and "migrations" not in p.parts
                 and re.search(r"environ(\.get)?\(?\[?[\"']CRM_", p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_cli_unexpected_error_has_an_id_in_the_log(log_dir: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code = errors.report(_boom())
    line = capsys.readouterr().err.strip()
    assert code == errors.EXIT_INTERNAL and len(line.splitlines()) == 1
    error_id = re.search(r"unexpected error ([A-Z0-9]{8}) \(RuntimeError: disk on fire\)", line)
    assert error_id is not None and str(log_dir / "crm.log") in line
    text = (log_dir / "crm.log").read_text(encoding="utf-8")
    assert f"error {error_id.group(1)} in cli" in text
    assert "Traceback (most recent call last)" in text and "disk on fire" in text
    assert stat.S_IMODE((log_dir / "crm.log").stat().st_mode) == 0o600


def test_tui_failure_text_has_an_id_in_the_log(log_dir: Path) -> None:
    from crm_tui.domain.kernel.errors import NotFound
    from crm_tui.widgets.session import failure_text

    class Node:
        class log:  # noqa: N801 - what Textual's DOMNode.log offers
            @staticmethod
            def error(text: str) -> None:
                pass

    assert failure_text(Node(), NotFound()) == NotFound().message  # type: ignore[arg-type]
    line = failure_text(Node(), _boom())  # type: ignore[arg-type]
    found = re.search(r"Unexpected error ([A-Z0-9]{8}) \(RuntimeError\)", line)
    assert found is not None and "\n" not in line
    text = (log_dir / "crm.log").read_text(encoding="utf-8")
    assert f"error {found.group(1)} in tui Node" in text and "disk on fire" in text


def test_log_rotates_into_private_files(log_dir: Path) -> None:
    for _ in range(3):
        logs.log.info("x" * (logs.MAX_BYTES // 2))
    files = sorted(log_dir.iterdir())
    assert [f.name for f in files][:2] == ["crm.log", "crm.log.1"]
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)


def test_verbose_cli_logs_to_stderr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.cli_support import crm_cli

    monkeypatch.setenv("CRM_LOG_DIR", str(tmp_path / "logs"))
    r = crm_cli("-v", "users", "list", "--db", str(tmp_path / "none.db"))
    assert r.code == 1 and "crm: INFO crm_tui: crm users" in r.err
    quiet = crm_cli("users", "list", "--db", str(tmp_path / "none.db"))
    assert quiet.code == 1 and "INFO" not in quiet.err

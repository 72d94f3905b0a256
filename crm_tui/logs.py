"""The log: a rotating file under the platform's log folder, and stderr for `crm -v`.

An unexpected error (a bug, the store gone) is shown to the user as one translated line with
a short error id; `log_unexpected` writes the same id with the full traceback here, so the
support desk finds it with `grep <id>`. Refusals (`DomainError`) are not errors and are not
logged as such.

The file is created 0600 (it may name customers in a traceback), in a 0700 folder:
`CRM_LOG_DIR`, else platformdirs' `user_log_dir("crm-tui")`. Set-up is idempotent and cheap
(no file is created until the first record), so every entry point calls `setup_logging()`.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import secrets
import sys
from pathlib import Path
from typing import Any

LOGGER = "crm_tui"
LOG_FILE = "crm.log"
MAX_BYTES = 1 << 20
BACKUPS = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s [pid %(process)d] %(message)s"

log = logging.getLogger(LOGGER)
_file_handler: logging.Handler | None = None
_stderr_handler: logging.Handler | None = None


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A RotatingFileHandler whose files (the live one and every rotation) are 0600."""

    def _open(self) -> Any:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.chmod(self.baseFilename, 0o600)  # an older file made with wider rights
        return os.fdopen(fd, "a", encoding=self.encoding or "utf-8", errors=self.errors)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is now (a test runner swaps it per command)."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def log_dir() -> Path:
    from crm_tui.settings import early

    configured = early("log_dir")  # Settings.log_dir, read without loading pydantic
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_log_dir

    return Path(user_log_dir("crm-tui", appauthor=False))


def log_path() -> Path:
    return log_dir() / LOG_FILE


def setup_logging(*, verbose: int = 0) -> Path:
    """The file handler (once per process) and, with `verbose` (the CLI's `-v`, `-vv`), a
    stderr handler at INFO or DEBUG. Returns the log file's path."""
    global _file_handler, _stderr_handler
    path = log_path()
    if _file_handler is None or getattr(_file_handler, "baseFilename", None) != str(path):
        if _file_handler is not None:
            log.removeHandler(_file_handler)
            _file_handler.close()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler = _PrivateRotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                              encoding="utf-8", delay=True)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.setLevel(logging.INFO)
        log.addHandler(handler)
        _file_handler = handler
    if verbose and _stderr_handler is None:
        _stderr_handler = _StderrHandler()
        _stderr_handler.setFormatter(logging.Formatter("crm: %(levelname)s %(name)s: %(message)s"))
        log.addHandler(_stderr_handler)
    elif not verbose and _stderr_handler is not None:
        log.removeHandler(_stderr_handler)
        _stderr_handler = None
    if _stderr_handler is not None:
        _stderr_handler.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    log.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    log.propagate = False
    return path


def new_error_id() -> str:
    """Eight characters, easy to read out on the phone: `7K3M-Q9XD`-like, without the dash."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
    return "".join(secrets.choice(alphabet) for _ in range(8))


def log_unexpected(exc: BaseException, where: str) -> str:
    """Log `exc` with its traceback under a new error id; returns the id."""
    error_id = new_error_id()
    try:
        setup_logging()
        log.error("error %s in %s: %s: %s", error_id, where, type(exc).__name__, exc,
                  exc_info=(type(exc), exc, exc.__traceback__))
    except Exception:  # a full disk must not turn one error into two
        pass
    return error_id

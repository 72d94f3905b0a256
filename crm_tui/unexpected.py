"""Unexpected errors in the TUI: one translated line with an error id, the traceback in the log.

Textual has no public hook for "a handler raised": every unhandled exception ends in its
private `App._handle_exception`, which stops the app and prints a traceback with local
variables (customer data among them) on the terminal. Two public seams instead:

- `run_action` (public, documented as overridable) is where every key binding, click
  action and palette action of every screen runs. An exception there is caught: the user
  gets one line with an error id (`session.failure_text`, which logs the traceback under
  that id) and the session goes on, so a bug behind one key does not lose her work.
  `call_domain` answers are guarded the same way (widgets/domain_call.py).
- Anything else (a message handler, a compose, a timer) still stops the app, as Textual
  wants. `run` (public) points `error_console` (a public attribute) at a buffer for the
  run, so Textual's traceback goes to the log under an error id instead of the terminal,
  and the terminal gets one translated line naming the id and the log file; the process
  exits with 70, as the CLI does for an internal error.
"""

from __future__ import annotations

import io
import sys
from typing import Any

from rich.console import Console

from crm_tui.i18n import t

EXIT_INTERNAL = 70


class ReportsUnexpected:
    """Mixin for the App (before `App` in the bases)."""

    async def run_action(self, action: Any, default_namespace: Any = None,
                         namespaces: Any = None) -> bool:
        try:
            return await super().run_action(action, default_namespace, namespaces)  # type: ignore[misc, no-any-return]
        except Exception as exc:  # one line and an error id; the session goes on
            self.report_unexpected(exc)
            return True

    def report_unexpected(self, exc: Exception) -> str:
        """Show `exc` as one line (logged with its traceback under an error id)."""
        from crm_tui.widgets.session import failure_text

        app: Any = self
        text = failure_text(app, exc)
        app.notify(text, severity="error", timeout=30, markup=False)
        return text

    def run(self, **kwargs: Any) -> Any:
        """Run the app; if it stops on an unexpected error, log Textual's traceback under an
        error id, print one line instead of it and exit with `EXIT_INTERNAL`."""
        app: Any = self
        buffer = io.StringIO()
        app.error_console = Console(file=buffer, width=120, markup=False, highlight=False,
                                    color_system=None)
        result = super().run(**kwargs)  # type: ignore[misc]
        if buffer.getvalue().strip():
            print(t("error.unexpected_exit", id=log_crash(buffer.getvalue()), log=_log_path()),
                  file=sys.stderr)
            raise SystemExit(EXIT_INTERNAL)
        return result


def log_crash(traceback_text: str) -> str:
    """Write the traceback Textual rendered to the log under a new error id; returns it."""
    from crm_tui.logs import log, new_error_id, setup_logging

    error_id = new_error_id()
    try:
        setup_logging()
        log.error("error %s in tui (the app stopped):\n%s", error_id, traceback_text.rstrip())
    except Exception:  # a full disk must not turn one error into two
        pass
    return error_id


def _log_path() -> str:
    from crm_tui.logs import log_path

    return str(log_path())

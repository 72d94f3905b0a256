"""One place that turns any failure of a `crm` command into one translated line and an exit code.

Kept free of Typer so the fast path that starts the TUI can use it without importing the CLI.
"""

from __future__ import annotations

import sys
from typing import Any

from crm_tui.i18n import t

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_INTERNAL = 70


def _first_line(text: object) -> str:
    lines = [ln.strip() for ln in str(text).strip().splitlines() if ln.strip()]
    return lines[0] if lines else ""


def _click_classes(name: str) -> tuple[type, ...]:
    """Click's exception class `name`, from Typer's vendored copy and from Click, if loaded."""
    found = []
    for module in ("typer._click.exceptions", "typer.exceptions", "click.exceptions"):
        cls = getattr(sys.modules.get(module), name, None)
        if isinstance(cls, type):
            found.append(cls)
    return tuple(found)


def describe(exc: BaseException) -> tuple[str, int]:
    """The message and exit code for `exc`; never a traceback."""
    from crm_tui.domain.kernel.errors import DomainError
    from crm_tui.store.crypto import KeyMaterialError

    if isinstance(exc, DomainError):
        return exc.message, EXIT_FAILURE
    if isinstance(exc, KeyMaterialError):
        detail = t(f"error.key.{exc.code}", **exc.params) if exc.code else _first_line(exc)
        return t("error.key_material", detail=detail), EXIT_FAILURE
    if isinstance(exc, KeyboardInterrupt):
        return t("cli.error.interrupted"), EXIT_INTERRUPTED
    if isinstance(exc, _click_classes("Abort")):
        return t("cli.error.aborted"), EXIT_FAILURE
    if isinstance(exc, _click_classes("NoSuchOption")):
        ctx_: Any = getattr(exc, "ctx", None)
        return t("cli.error.usage", detail=t("cli.click.no_such_option_plain",
                                             name=getattr(exc, "option_name", "")),
                 command=ctx_.command_path if ctx_ is not None else "crm"), EXIT_USAGE
    if isinstance(exc, _click_classes("UsageError")):
        ctx: Any = getattr(exc, "ctx", None)
        path = ctx.command_path if ctx is not None else "crm"
        return t("cli.error.usage", detail=_first_line(exc.format_message()),  # type: ignore[attr-defined]
                 command=path), EXIT_USAGE
    if isinstance(exc, _click_classes("ClickException")):
        return _first_line(exc.format_message()), getattr(exc, "exit_code", 0) or EXIT_FAILURE  # type: ignore[attr-defined]
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is not None and isinstance(exc, sa_exc.SQLAlchemyError):
        orig = getattr(exc, "orig", None)
        return t("error.database", detail=_first_line(orig if orig is not None else exc)), EXIT_FAILURE
    if isinstance(exc, OSError):
        where = exc.filename if exc.filename is not None else ""
        return t("cli.error.os", path=where, detail=exc.strerror or _first_line(exc)), EXIT_FAILURE
    if _is_settings_error(exc):
        return t("error.settings", detail=_first_line(exc)), EXIT_USAGE
    from crm_tui.logs import log_path, log_unexpected

    error_id = log_unexpected(exc, "cli")
    return t("cli.error.internal", id=error_id, kind=type(exc).__name__, detail=_first_line(exc),
             log=str(log_path())), EXIT_INTERNAL


def _is_settings_error(exc: BaseException) -> bool:
    """pydantic's ValidationError raised while loading Settings (a bad CRM_* value)."""
    pydantic_core = sys.modules.get("pydantic_core")
    cls = getattr(pydantic_core, "ValidationError", None)
    return isinstance(cls, type) and isinstance(exc, cls) and "Settings" in str(exc)


def _debug() -> bool:
    try:
        from crm_tui.settings import get_settings

        return get_settings().debug
    except Exception:  # a bad CRM_* value is itself reported, not raised from here
        return False


def codes(exc: BaseException) -> dict[str, Any]:
    """The refusal as data for `--json` callers: its key, params and, for validation, each
    field's reason code."""
    from crm_tui.domain.kernel.errors import DomainError, ValidationFailed
    from crm_tui.domain.kernel.messages import Msg

    if not isinstance(exc, DomainError):
        return {"key": "error.internal", "params": {"kind": type(exc).__name__}}
    out = Msg(exc.key, exc.params).as_json()
    if isinstance(exc, ValidationFailed):
        out["fields"] = [{"field": e.field, "row": e.row, **Msg(e.key, e.params).as_json()}
                         for e in exc.errors]
    return out


def report(exc: BaseException, *, as_json: bool = False) -> int:
    """Print the one line on stderr and return the exit code; with `as_json` the line is a
    JSON object with the message and its codes. `CRM_DEBUG=1` re-raises."""
    if _debug() and not isinstance(exc, KeyboardInterrupt):
        raise exc
    try:
        message, code = describe(exc)
    except Exception:  # the reporter itself must never end in a traceback
        message, code = f"{type(exc).__name__}: {_first_line(exc)}", EXIT_INTERNAL
    if as_json:
        import json

        try:
            error = {**codes(exc), "message": message, "exit_code": code}
        except Exception:
            error = {"key": "error.internal", "message": message, "exit_code": code}
        print(json.dumps({"error": error}, ensure_ascii=False, default=str), file=sys.stderr)
        return code
    print(t("cli.error.line", message=message), file=sys.stderr)
    return code

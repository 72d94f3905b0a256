"""Click's and Typer's own words ("Show this message and exit.", "No such option"),
in the user's language.

Click marks them with gettext but ships no catalogs; each of its modules binds
`_ = gettext.gettext` at import. `install()` rebinds those names to a look-up in our
catalog (falling back to Click's English), and retitles Typer's rich help panels.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from crm_tui.i18n import has_key, t

MESSAGES = {
    "Show this message and exit.": "cli.click.help",
    "No such option {name!r}.": "cli.click.no_such_option",
    "No such option: {name}": "cli.click.no_such_option_plain",
    "Error: {message}": "cli.click.error",
    "Try '{command} {option}' for help.": "cli.click.try_help",
    "Usage:": "cli.click.usage",
    "Options": "cli.click.options",
    "Commands": "cli.click.commands",
    "Error": "cli.click.error_title",
    "Missing argument {param_hint}.": "cli.click.missing_argument",
    "Missing option {param_hint}.": "cli.click.missing_option",
    "No such command {name!r}.": "cli.click.no_such_command",
    "Invalid value for {param_hint}: {message}": "cli.click.invalid_value",
    "Got unexpected extra argument ({args})": "cli.click.extra_argument",
}


def translate(message: str) -> str:
    key = MESSAGES.get(message)
    return t(key) if key is not None and has_key(key) else message


def install() -> None:
    """Typer 0.2x vendors Click with its words hard-coded: wrap the help option's
    factory so `--help` reads in our language; retitle the rich help panels; and, for a
    Click that still uses gettext, rebind its `_`."""
    for name in ("click.core", "click.decorators", "click.exceptions", "click.formatting",
                 "typer.core"):
        module = _module(name)
        if module is not None and hasattr(module, "_"):
            module._ = translate  # type: ignore[attr-defined]
    decorators = _module("typer._click.decorators")
    if decorators is not None and not getattr(decorators.help_option, "_crm", False):
        decorators.help_option = _translated_help(decorators.help_option)
    rich_utils = _module("typer.rich_utils")
    if rich_utils is not None:
        rich_utils.OPTIONS_PANEL_TITLE = translate("Options")  # type: ignore[attr-defined]
        rich_utils.COMMANDS_PANEL_TITLE = translate("Commands")  # type: ignore[attr-defined]
        rich_utils.ERRORS_PANEL_TITLE = translate("Error")  # type: ignore[attr-defined]


def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _translated_help(original: Callable[..., Any]) -> Callable[..., Any]:
    def help_option(*args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        decorate = original(*args, **kwargs)

        def apply(target: Any) -> Any:
            result = decorate(target)
            params = getattr(result, "params", None) or getattr(result, "__click_params__", [])
            if params:
                params[-1].help = translate("Show this message and exit.")
            return result

        return apply

    help_option._crm = True  # type: ignore[attr-defined]
    return help_option

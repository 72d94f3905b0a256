"""The translation catalog. Every user-facing string is a key looked up here.

Catalogs are TOML files under ``i18n/<lang>/*.toml``; their tables nest into dotted keys
(``[error] not_found = "..."`` → ``error.not_found``). zh-CN and en must hold the same keys
(a test checks). The language comes from `set_language`, else `CRM_LANG` (Settings.lang), else an
en/zh locale, else zh-CN.
"""

from __future__ import annotations

import os
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
LANGUAGES = ("zh_CN", "en")
_current: str | None = None


def _flatten(prefix: str, table: dict[str, Any], out: dict[str, str]) -> None:
    for key, value in table.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(full, value, out)
        else:
            out[full] = str(value)


@cache
def catalog(lang: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for path in sorted((HERE / lang).glob("*.toml")):
        with path.open("rb") as fh:
            _flatten("", tomllib.load(fh), out)
    return out


def normalise(lang: str | None) -> str | None:
    if not lang:
        return None
    low = lang.lower().replace("-", "_")
    if low.startswith("zh"):
        return "zh_CN"
    if low.startswith("en"):
        return "en"
    return None  # C/POSIX (a bare server or SSH session) says nothing: zh-CN, the branch's own


def detect_language() -> str:
    from crm_tui.settings import early

    env = normalise(early("lang"))  # Settings.lang, read before pydantic is loaded
    if env:
        return env
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        found = normalise(os.environ.get(var, "").split(".")[0])
        if found:
            return found
    # Not locale.getlocale(): Python reports a bare C.UTF-8 as en_US.
    return "zh_CN"


def set_language(lang: str | None) -> str:
    global _current
    _current = normalise(lang) or detect_language()
    return _current


def prefer_language(lang: str | None) -> str:
    """The configured language (Settings.lang), unless `set_language` already chose one."""
    return _current or set_language(lang)


def language() -> str:
    return _current or set_language(None)


def t(key: str, /, **params: Any) -> str:
    """Translate `key` into the current language; missing keys show as the key itself.

    Parameters that are messages themselves (the domain's `Msg` and `Join`) are translated
    first."""
    text = catalog(language()).get(key)
    if text is None:
        text = catalog("en").get(key, key)
    if params:
        try:
            return text.format(**{k: _param(v) for k, v in params.items()})
        except (KeyError, IndexError, ValueError, TypeError):
            return text
    return text


def render(message: Any) -> str:
    """The text of a domain message (`Msg(key, params)`); "" for None."""
    if message is None:
        return ""
    if isinstance(message, str):
        return message
    return t(message.key, **message.params)


def _param(value: Any) -> Any:
    # Duck-typed so the catalog stays free of domain imports: a Msg has key + params, a
    # Join has items + sep.
    if hasattr(value, "key") and hasattr(value, "params"):
        return render(value)
    if hasattr(value, "items") and hasattr(value, "sep") and isinstance(value.items, tuple):
        return value.sep.join(str(_param(v)) for v in value.items)
    return value


def has_key(key: str) -> bool:
    return key in catalog("en") and key in catalog("zh_CN")

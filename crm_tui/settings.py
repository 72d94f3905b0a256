"""Settings from the environment (`CRM_…`), as Posting does with pydantic-settings.

This is the one module that reads `CRM_*` variables. `get_settings()` loads them once per
environment (cached; a changed environment, as tests make with monkeypatch, loads again;
`get_settings.cache_clear()` forgets). The encryption key (`CRM_KEY`) is a `SecretStr`, so it
never shows in a repr, a log line or a traceback.

pydantic costs a few hundred milliseconds to import, and the login screen must paint before
that: the class is built on first use, and the two values needed before the first frame (the
language, and the database the TUI would open) are read by `early()` under the same names.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

ENV_PREFIX = "CRM_"

if TYPE_CHECKING:
    from pathlib import Path

    from pydantic import SecretStr
    from pydantic_settings import BaseSettings

    class Settings(BaseSettings):
        database_url: str | None
        key: SecretStr | None
        key_file: Path | None
        lang: str | None
        tz: str
        idle_lock_minutes: float
        max_failed_logins: int
        lockout_minutes: int
        log_dir: Path | None
        keymap_file: Path | None
        debug: bool

        def __init__(self, **values: Any) -> None: ...


@lru_cache(maxsize=1)
def _settings_class() -> type:
    import pathlib

    import pydantic
    from pydantic import Field
    from pydantic_settings import BaseSettings, SettingsConfigDict

    class Settings(BaseSettings):
        """Every `CRM_*` setting, validated."""

        model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

        database_url: str | None = None
        key: SecretStr | None = None
        """`CRM_KEY`: the key ring itself (instead of a key file), for containers."""
        key_file: Path | None = None
        lang: str | None = None
        """`CRM_LANG`: zh-CN or en; unset, the locale decides (see `crm_tui.i18n`)."""
        tz: str = "Asia/Shanghai"
        idle_lock_minutes: float = Field(default=15, gt=0)
        max_failed_logins: int = 5
        lockout_minutes: int = 30
        log_dir: Path | None = None
        """`CRM_LOG_DIR`: where the log file goes (default: the platform's user log dir)."""
        keymap_file: Path | None = None
        """`CRM_KEYMAP_FILE`: the TUI's keymap (default: keymap.toml in the platform's user
        config dir); see `crm_tui.keymap`."""
        debug: bool = False
        """`CRM_DEBUG=1`: the CLI re-raises instead of printing one line."""

    Settings.__module__ = __name__
    Settings.__qualname__ = "Settings"
    # the annotations are strings (postponed evaluation) naming types imported only here
    Settings.model_rebuild(_types_namespace={"Path": pathlib.Path,
                                             "SecretStr": pydantic.SecretStr})
    return Settings


def __getattr__(name: str) -> Any:
    if name == "Settings":
        return _settings_class()
    raise AttributeError(name)


def _snapshot() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(ENV_PREFIX)))


@lru_cache(maxsize=4)
def _load(snapshot: tuple[tuple[str, str], ...]) -> Settings:
    return _settings_class()()  # type: ignore[no-any-return]


def get_settings() -> Settings:
    """The settings, loaded once for this environment."""
    return _load(_snapshot())


get_settings.cache_clear = _load.cache_clear  # type: ignore[attr-defined]


def early(name: str) -> str | None:
    """The raw value of setting `name` (`early("lang")` is `CRM_LANG`), for the start-up
    path that must not wait for pydantic; empty counts as unset, as it does for Settings."""
    return os.environ.get(ENV_PREFIX + name.upper()) or None


@contextmanager
def key_file_override(path: Path | None) -> Iterator[None]:
    """Open stores with this key file for a while (`crm audit verify --key-file`), then forget it."""
    if path is None:
        yield
        return
    os.environ["CRM_KEY_FILE"] = str(path)
    get_settings.cache_clear()  # type: ignore[attr-defined]
    try:
        yield
    finally:
        os.environ.pop("CRM_KEY_FILE", None)
        get_settings.cache_clear()  # type: ignore[attr-defined]

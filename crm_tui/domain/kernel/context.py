"""The handle every domain call takes: the store, the key ring, the zone and the policy."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from crm_tui.settings import Settings, get_settings
from crm_tui.store.crypto import Keyring, load_keyring
from crm_tui.store.db import Database, default_sqlite_path, resolve_url

if TYPE_CHECKING:
    from crm_tui.domain.policy.document import Policy

# How long a process trusts its cached policy before asking which version is active; a
# policy approved in another process (another terminal, the CLI) reaches this one then.
POLICY_RECHECK_SECONDS = 10.0


@dataclass
class Crm:
    db: Database
    keys: Keyring
    settings: Settings = field(default_factory=get_settings)
    key_file: Path | None = None
    _policy: Policy | None = field(default=None, repr=False)
    _policy_id: int | None = field(default=None, repr=False)
    _policy_checked: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self.db.audit_key = self.keys.audit_key

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.tz)

    def policy(self) -> Policy:
        """The active policy: cached, re-checked against the store every few seconds."""
        now = time.monotonic()
        if self._policy is not None and now - self._policy_checked < POLICY_RECHECK_SECONDS:
            return self._policy
        from crm_tui.domain.policy.document import active_policy, active_policy_id

        current = active_policy_id(self.db)
        if self._policy is None or current != self._policy_id:
            self._policy = active_policy(self.db)
            self._policy_id = current
        self._policy_checked = now
        return self._policy

    def forget_policy(self) -> None:
        self._policy = None


def default_key_file(url: str) -> Path:
    """The key's default home: the platform config dir, one file per database, apart from the
    data, so copying the data folder does not take the key with it."""
    import hashlib

    from platformdirs import user_config_dir

    if url.startswith("sqlite:///"):
        ident = str(Path(url.removeprefix("sqlite:///")).expanduser().resolve())
    else:
        from sqlalchemy.engine import make_url

        ident = make_url(url).set(password=None).render_as_string(hide_password=False)
    digest = hashlib.sha256(ident.encode()).hexdigest()[:20]
    return Path(user_config_dir("crm-tui", appauthor=False)) / "keys" / f"{digest}.key"


def legacy_key_file(url: str) -> Path:
    """Where versions before issue 7 kept the key: beside the SQLite file, or in the data dir."""
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///") + ".key")
    return default_sqlite_path().with_name("crm.key")


def key_file_for(url: str, settings: Settings) -> Path:
    """CRM_KEY_FILE; else an existing key where older versions kept it; else the config dir."""
    if settings.key_file:
        return settings.key_file
    legacy = legacy_key_file(url)
    if legacy.exists():
        return legacy
    return default_key_file(url)


def key_file_is_legacy(url: str, settings: Settings, key_file: Path | None) -> bool:
    """True when the key still sits beside the data (the CLI says once to move it)."""
    return (not settings.key_file and key_file is not None
            and key_file == legacy_key_file(url) and key_file.exists())


def open_crm(db: str | None = None, *, create_key: bool = False) -> Crm:
    settings = get_settings()
    url = resolve_url(db or settings.database_url)
    key_file = key_file_for(url, settings)
    env_key = settings.key.get_secret_value() if settings.key is not None else None
    keys = load_keyring(key_file, create=create_key, env_key=env_key)
    return Crm(Database(url), keys, settings, key_file)

"""Settings from the environment (`CRM_…`), as Posting does with pydantic-settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_", extra="ignore")

    database_url: str | None = None
    key_file: Path | None = None
    lang: str | None = None
    tz: str = "Asia/Shanghai"
    idle_lock_minutes: float = Field(default=15, gt=0)
    max_failed_logins: int = 5
    lockout_minutes: int = 30


def get_settings() -> Settings:
    return Settings()

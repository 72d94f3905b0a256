"""The `[ssh]` section of the policy: what the SSH front door allows per member of staff."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SshPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_sessions_per_user: int = Field(default=3, ge=1, le=50)
    """Live SSH sessions one person may hold at once, counted across every gateway."""
    idle_close_minutes: int = Field(default=60, ge=1, le=24 * 60)
    """A session with no keystroke for this long is closed (the app's idle lock comes first)."""
    heartbeat_seconds: int = Field(default=30, ge=5, le=600)
    """How often a gateway marks its sessions alive; a session unseen for three beats no
    longer counts (its gateway died)."""

"""The form engine's policy settings."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FormsPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sensitive_custom_needs_approval: bool = True
    """A change to a sensitive custom field goes through maker-checker, not a direct save."""

"""The form engine's policy settings."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FormsPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sensitive_custom_needs_approval: bool = True
    """A change to a sensitive custom field goes through maker-checker, not a direct save."""
    definition_changes_need_approval: bool = False
    """Adding, editing or retiring a field definition opens a request for the policy-change
    levels (compliance) instead of applying at once; the approval detail shows the change
    in words."""

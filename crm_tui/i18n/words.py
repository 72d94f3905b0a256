"""Turning the domain's message keys and parameters into words, for the TUI and the CLI
alike: parameters named `role`/`roles` become role names in the current language."""

from __future__ import annotations

from typing import Any

from crm_tui.i18n import t


def role_name(role: str) -> str:
    return t(f"role.{role}")


def say(key: str, params: dict[str, Any]) -> str:
    shown = dict(params)
    if "role" in shown:
        shown["role"] = role_name(str(shown["role"]))
    if isinstance(shown.get("roles"), list | tuple):
        shown["roles"] = " → ".join(role_name(str(r)) for r in shown["roles"])
    return t(key, **shown)

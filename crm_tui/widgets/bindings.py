"""Footer words in the user's language, through Textual's public binding API.

Textual merges a class's BINDINGS once, when the class is created, so a description
written as ``t(...)`` there would freeze whatever language was active at import (and the
palette can switch language during a session). Bindings here carry a catalog key as their
description instead (``"tui.key.lock"``), and the screen translates them where Textual
reads them for display: `Screen.active_bindings`, the public property the Footer (and the
key panel) build from. Key handling never reads descriptions, so nothing else changes.

Every screen that shows a Footer mixes in `TranslatedFooter` before `Screen`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from textual.binding import ActiveBinding

from crm_tui.i18n import has_key, t

if TYPE_CHECKING:
    from textual.binding import Binding


def translated(binding: Binding) -> Binding:
    """`binding` with its description (and tooltip) in the current language, if they are
    catalog keys; anything else is left as written."""
    description = t(binding.description) if has_key(binding.description) else binding.description
    tooltip = t(binding.tooltip) if binding.tooltip and has_key(binding.tooltip) else binding.tooltip
    if description == binding.description and tooltip == binding.tooltip:
        return binding
    return replace(binding, description=description, tooltip=tooltip)


class TranslatedFooter:
    """Mixin for a Screen: its active bindings (what the Footer shows) are translated."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        found: dict[str, ActiveBinding] = super().active_bindings  # type: ignore[misc]
        return {key: ActiveBinding(node, translated(binding), enabled,
                                   t(tooltip) if tooltip and has_key(tooltip) else tooltip)
                for key, (node, binding, enabled, tooltip) in found.items()}

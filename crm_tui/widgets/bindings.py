"""Footer words in the user's language.

Textual merges a class's BINDINGS once, when the class is created, so a description
written as ``t(...)`` there would freeze whatever language was active at import. Bindings
here carry a catalog key as their description instead, and each instance swaps in the
words when it is built.
"""

from __future__ import annotations

from dataclasses import replace

from textual.dom import DOMNode

from crm_tui.i18n import t

KEY_PREFIX = "tui."


def translate_bindings(node: DOMNode) -> None:
    """Replace catalog-key descriptions on `node`'s own binding map with translations."""
    table = node._bindings.key_to_bindings
    for key, bindings in list(table.items()):
        if any(b.description.startswith(KEY_PREFIX) for b in bindings):
            table[key] = [
                replace(b, description=t(b.description), tooltip=t(b.tooltip) if b.tooltip else "")
                if b.description.startswith(KEY_PREFIX) else b
                for b in bindings
            ]

"""A field-definition change in words, for the reviewer: what was added, retired or brought
back, and each attribute that changed with its before and after (catalog keys and
parameters; the screen translates, as it does a policy diff)."""

from __future__ import annotations

from typing import Any

ATTRIBUTES = ("type", "label_zh", "label_en", "required", "choices", "pattern", "min_value",
              "max_value", "help_zh", "help_en", "section", "position", "sensitive",
              "filterable", "status")


def _shown(value: Any) -> str:
    if value is None or value == "" or value == [] or value == ():
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def describe_change(before: dict[str, Any] | None,
                    after: dict[str, Any] | None) -> list[tuple[str, dict[str, Any]]]:
    """One (catalog key, params) per change between two definition bodies."""
    after = after or {}
    name = f"{after.get('entity') or (before or {}).get('entity')}." \
           f"{after.get('key') or (before or {}).get('key')}"
    if not before:
        return [("forms_values.def.added", {"field": name, "type": _shown(after.get("type")),
                                            "label": _shown(after.get("label_zh"))})]
    if after.get("status") == "retired" and before.get("status") != "retired":
        return [("forms_values.def.retired", {"field": name})]
    out: list[tuple[str, dict[str, Any]]] = []
    if before.get("status") == "retired" and after.get("status") == "active":
        out.append(("forms_values.def.readded", {"field": name}))
    for attr in ATTRIBUTES:
        if attr == "status":
            continue
        old, new = before.get(attr), after.get(attr)
        if isinstance(old, tuple):
            old = list(old)
        if isinstance(new, tuple):
            new = list(new)
        if old != new:
            out.append(("forms_values.def.changed", {"field": name, "attr": attr,
                                                      "before": _shown(old),
                                                      "after": _shown(new)}))
    return out

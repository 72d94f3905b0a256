"""What a new policy changes against the active one, in words a reviewer can read.

`policy_diff(old, new)` walks both validated policies and returns one `PolicyChange` per
change: a catalog key and its parameters (the screen and the CLI translate), for example
`policy.diff.chain_level_added` {currency: CNY, amount: 2,000,000, role: risk} → "approval
chain for CNY ≥ 2,000,000: + HQ risk". Lists whose items have a natural identity (approval
chains by currency and threshold, tag and alert rules by name) are matched by it, so
reordering is not a change and an edit is one line, not a removal and an addition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from crm_tui.domain.policy.document import Policy


@dataclass(frozen=True)
class PolicyChange:
    key: str
    params: dict[str, Any]
    path: str
    """Dotted location of the change (`approvals.transaction_chains`), for grouping."""

    @property
    def section(self) -> str:
        return self.path.split(".", 1)[0].split("[", 1)[0]


def _money(value: Any) -> str:
    d = Decimal(str(value))
    return f"{d:,.0f}" if d == d.to_integral_value() else f"{d:,.2f}"


def _short(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_short(v) for v in value) or "[]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _chain_id(item: dict[str, Any]) -> tuple[str, str]:
    return str(item.get("currency", "CNY")), str(item.get("min_amount"))


IDENTITY: dict[str, Callable[[dict[str, Any]], Any]] = {
    "approvals.transaction_chains": _chain_id,
    "tag_rules": lambda item: item.get("tag"),
    "alert_rules": lambda item: item.get("name"),
}


def _roles(levels: list[dict[str, Any]]) -> list[str]:
    return [str(level.get("role")) for level in levels]


def _chains(path: str, old: list[dict[str, Any]], new: list[dict[str, Any]],
            out: list[PolicyChange]) -> None:
    olds = {_chain_id(c): c for c in old}
    news = {_chain_id(c): c for c in new}
    for ident in sorted(set(olds) | set(news), key=lambda i: (i[0], Decimal(i[1]))):
        currency, amount = ident[0], _money(ident[1])
        if ident not in olds:
            out.append(PolicyChange("policy.diff.chain_added",
                                    {"currency": currency, "amount": amount,
                                     "roles": _roles(news[ident]["levels"])}, path))
            continue
        if ident not in news:
            out.append(PolicyChange("policy.diff.chain_removed",
                                    {"currency": currency, "amount": amount}, path))
            continue
        before, after = _roles(olds[ident]["levels"]), _roles(news[ident]["levels"])
        for role in [r for r in after if r not in before]:
            out.append(PolicyChange("policy.diff.chain_level_added",
                                    {"currency": currency, "amount": amount, "role": role}, path))
        for role in [r for r in before if r not in after]:
            out.append(PolicyChange("policy.diff.chain_level_removed",
                                    {"currency": currency, "amount": amount, "role": role}, path))
        if sorted(before) == sorted(after) and before != after:
            out.append(PolicyChange("policy.diff.chain_reordered",
                                    {"currency": currency, "amount": amount, "roles": after}, path))
        if olds[ident]["levels"] != news[ident]["levels"] and before == after:
            out.append(PolicyChange("policy.diff.value", {
                "path": f"{path}[{currency} {amount}].levels",
                "old": _short(olds[ident]["levels"]), "new": _short(news[ident]["levels"])}, path))


def _walk(path: str, old: Any, new: Any, out: list[PolicyChange]) -> None:
    if old == new:
        return
    if path == "approvals.transaction_chains":
        _chains(path, old or [], new or [], out)
        return
    if path == "suitability.matrix":
        for c in sorted(set(old) | set(new)):
            for r in sorted(set(old.get(c, {})) | set(new.get(c, {}))):
                a, b = old.get(c, {}).get(r), new.get(c, {}).get(r)
                if a != b:
                    out.append(PolicyChange("policy.diff.suitability",
                                            {"customer": c, "product": r, "old": a, "new": b}, path))
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [k for k in new if k not in old]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in new:
                out.append(PolicyChange("policy.diff.removed", {"path": sub, "old": _short(old[key])}, sub))
            elif key not in old:
                out.append(PolicyChange("policy.diff.added", {"path": sub, "new": _short(new[key])}, sub))
            else:
                _walk(sub, old[key], new[key], out)
        return
    ident = IDENTITY.get(path)
    if ident is not None and isinstance(old, list) and isinstance(new, list):
        olds = {ident(i): i for i in old}
        news = {ident(i): i for i in new}
        for key in list(olds) + [k for k in news if k not in olds]:
            sub = f"{path}[{key}]"
            if key not in news:
                out.append(PolicyChange("policy.diff.item_removed", {"path": path, "item": key}, sub))
            elif key not in olds:
                out.append(PolicyChange("policy.diff.item_added",
                                        {"path": path, "item": key, "new": _short(news[key])}, sub))
            else:
                _walk(sub, olds[key], news[key], out)
        return
    out.append(PolicyChange("policy.diff.value", {"path": path, "old": _short(old),
                                                  "new": _short(new)}, path))


def policy_diff(old: Policy, new: Policy) -> list[PolicyChange]:
    """Every change from `old` to `new`, in document order."""
    out: list[PolicyChange] = []
    _walk("", old.model_dump(mode="json"), new.model_dump(mode="json"), out)
    return out

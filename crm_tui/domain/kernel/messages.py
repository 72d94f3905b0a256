"""Messages as keys: what the domain says, for the screen or the CLI to translate.

A domain function never renders text (the caller's language is not the domain's business,
and a `--json` caller wants the code, not a sentence). It returns a `Msg`: a catalog key and
its parameters. A parameter may itself be a `Msg` (a role's or a field's label) or a `Join` of
several; `crm_tui.i18n.t` renders both. `as_json` gives the same message as data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Msg:
    key: str
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "params": {k: _json(v) for k, v in self.params.items()}}


@dataclass(frozen=True)
class Join:
    """Several parameters shown as one (`主管 → 合规`)."""

    items: tuple[Any, ...]
    sep: str = ", "

    def as_json(self) -> list[Any]:
        return [_json(i) for i in self.items]


def msg(key: str, /, **params: Any) -> Msg:
    return Msg(key, params)


def label(prefix: str, value: str) -> Msg:
    """The label of a stored value: `label("role", "rm")` is the catalog's `role.rm`."""
    return Msg(f"{prefix}.{value}")


def _json(value: Any) -> Any:
    if isinstance(value, Msg | Join):
        return value.as_json()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def stored(message: Msg) -> list[Any]:
    """The JSON form kept in a payload (`[key, params]`); a label parameter becomes
    `"@catalog.key"`, so it is translated when shown, in the reader's language."""
    params = {k: f"@{v.key}" if isinstance(v, Msg) and not v.params else _json(v)
              for k, v in message.params.items()}
    return [message.key, params]


def from_stored(value: Any) -> Msg | None:
    """Back from `stored` (also a bare key or "" for nothing)."""
    if not value:
        return None
    if isinstance(value, str):
        return Msg(value)
    key, params = value
    if not key:
        return None
    return Msg(key, {k: Msg(v[1:]) if isinstance(v, str) and v.startswith("@") else v
                     for k, v in params.items()})

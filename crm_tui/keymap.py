"""The user's keymap: `keymap.toml` maps binding ids to keys, as Posting's keymap does.

Every binding a user might want on another key carries an id (`Binding("c", "clear_alert",
…, id="alert-clear")`); the file names the id and the new key(s)::

    # ~/.config/crm-tui/keymap.toml (CRM_KEYMAP_FILE elsewhere)
    alert-clear = "k"
    lock-screen = "ctrl+k,f1"

The app hands the valid entries to Textual's public `App.set_keymap`, which swaps the key
wherever a binding with that id is active. A file that is not TOML, an entry that is not a
key string, or an id no screen binds is reported as one translated line (and the rest of
the file still applies); nothing here can stop the app from starting.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from crm_tui.i18n import t

if TYPE_CHECKING:
    from textual.binding import Binding
    from textual.dom import DOMNode

KEYMAP_FILE = "keymap.toml"
# one key: letters, digits, names such as "f5" or "question_mark", modifiers joined by "+"
_KEY = re.compile(r"^(?:(?:ctrl|shift|alt|meta|super|hyper)\+)*[^\s,+]+$|^\+$")


@dataclass(frozen=True)
class Keymap:
    """What the file asks for (only the valid entries) and one line per problem."""

    bindings: dict[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()


def keymap_path() -> Path:
    """`CRM_KEYMAP_FILE`, else `keymap.toml` in the platform's config folder for crm-tui."""
    from crm_tui.settings import early

    configured = early("keymap_file")  # Settings.keymap_file, read before pydantic loads
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("crm-tui", appauthor=False)) / KEYMAP_FILE


def read_keymap(path: Path) -> Keymap:
    """Parse `path` (absent: an empty keymap). Ids are checked later, by `unknown_ids`,
    because the screens that define them load only after sign-in."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Keymap()
    except (OSError, UnicodeDecodeError) as exc:
        return Keymap(problems=(t("tui.keymap.unreadable", path=str(path), detail=str(exc)),))
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return Keymap(problems=(t("tui.keymap.not_toml", path=str(path), detail=str(exc)),))
    good: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, keys in table.items():
        parts = [k.strip() for k in keys.split(",")] if isinstance(keys, str) else []
        if not parts or not all(_KEY.match(k) for k in parts):
            problems.append(t("tui.keymap.bad_keys", path=str(path), id=binding_id,
                              value=str(keys)))
            continue
        good[binding_id] = ",".join(parts)
    return Keymap(good, tuple(problems))


@lru_cache(maxsize=1)
def known_binding_ids() -> frozenset[str]:
    """Every binding id that the app, its screens and its widgets declare (their BINDINGS)."""
    from textual.dom import DOMNode

    import crm_tui.screens
    import crm_tui.widgets
    from crm_tui.app import CrmApp

    for package in (crm_tui.screens, crm_tui.widgets):
        for module in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
    ids: set[str] = set()
    pending: list[type] = [DOMNode]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("crm_tui."):
            ids.update(b.id for b in getattr(cls, "BINDINGS", ()) if getattr(b, "id", None))
    ids.update(b.id for b in CrmApp.BINDINGS if getattr(b, "id", None))  # type: ignore[union-attr]
    return frozenset(ids)


def unknown_ids(keymap: Keymap, path: Path) -> list[str]:
    """One line per id in `keymap` that no binding in the app declares."""
    known = known_binding_ids()
    return [t("tui.keymap.unknown_id", path=str(path), id=binding_id)
            for binding_id in keymap.bindings if binding_id not in known]


class AppliesKeymap:
    """Mixin for the App: `load_keymap()` on mount, `check_keymap_ids()` after sign-in."""

    user_keymap: Keymap = Keymap()
    keymap_file: Path | None = None

    def load_keymap(self) -> None:
        """The file's valid entries through Textual's public `App.set_keymap`; each problem
        is one line on screen and in the log, never a failed start."""
        app: Any = self
        path = keymap_path()
        self.user_keymap = read_keymap(path)
        self.keymap_file = path if path.exists() else None
        app.set_keymap(self.user_keymap.bindings)
        self.warn_lines(self.user_keymap.problems)

    def check_keymap_ids(self) -> None:
        """Ids no binding declares (a typo, a renamed binding), checked once the screens can
        be imported (after sign-in), in a worker."""
        if self.keymap_file is not None and self.user_keymap.bindings:
            cast(Any, self).run_worker(self._unknown_ids_worker, thread=True, group="keymap")

    def _unknown_ids_worker(self) -> None:
        app: Any = self
        if self.keymap_file is not None:
            app.call_from_thread(self.warn_lines, unknown_ids(self.user_keymap, self.keymap_file))

    def warn_lines(self, lines: Iterable[str]) -> None:
        from crm_tui.logs import log, setup_logging

        for line in lines:
            setup_logging()
            log.warning("%s", line)
            cast(Any, self).notify(line, severity="warning", timeout=15, markup=False)

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node: DOMNode) -> None:
        """Textual's public hook: the keymap put a binding on a key another one used. Said
        once per binding (Textual calls this on every key press while it lasts)."""
        told: set[str] = self.__dict__.setdefault("_clashes_told", set())
        for binding in clashed_bindings:
            if binding.id and binding.id not in told:
                told.add(binding.id)
                self.warn_lines([t("tui.keymap.clash", id=binding.id, key=binding.key)])

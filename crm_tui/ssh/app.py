"""The app as an SSH session runs it: signing out ends the session (the connection is the
identity; nobody else signs in on it with a password), and the screens a user opens first
are imported while she looks at the main screen, not on her first keystroke."""

from __future__ import annotations

import gc
import importlib
from pathlib import Path

from textual import work

import crm_tui.app
from crm_tui.app import CrmApp

# What searching and opening a profile load on first use (measured: most of the CPU of a
# session's first search and first profile is these imports).
WARM_MODULES = ("crm_tui.domain.customers.search", "crm_tui.domain.customers.profile",
                "crm_tui.screens.profile")


class SshCrmApp(CrmApp):
    CSS_PATH = str(Path(crm_tui.app.__file__).with_name("app.tcss"))  # relative paths follow the subclass

    def on_mount(self) -> None:
        # Textual runs CrmApp.on_mount too (handlers run along the MRO): no super() call.
        self.set_timer(0.5, self._warm_up)

    @work(thread=True, group="warm-up")
    def _warm_up(self) -> None:
        for name in WARM_MODULES:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - only a head start; the real use imports again
                break
        # Everything alive now (modules, the stylesheet, the main screen) lives as long as
        # the session: out of the collector's sight, a full collection walks only what came
        # since. Measured: a session's full collections cost 0.5-0.9 s of CPU each, more
        # than all its typing, searching and profile opening together.
        gc.freeze()
        gc.enable()  # off while the session process started (crm_tui.ssh.session)

    async def action_logout(self) -> None:
        if self.session is not None:
            from crm_tui.domain.admin.auth import logout

            try:
                logout(self.crm, self.session.actor)
            finally:
                self.session = None
        self.exit()

"""The app as an SSH session runs it: signing out ends the session (the connection is the
identity; nobody else signs in on it with a password)."""

from __future__ import annotations

from pathlib import Path

import crm_tui.app
from crm_tui.app import CrmApp


class SshCrmApp(CrmApp):
    CSS_PATH = str(Path(crm_tui.app.__file__).with_name("app.tcss"))  # relative paths follow the subclass

    async def action_logout(self) -> None:
        if self.session is not None:
            from crm_tui.domain.admin.auth import logout

            try:
                logout(self.crm, self.session.actor)
            finally:
                self.session = None
        self.exit()

"""The app process of one SSH session: `python -m crm_tui.ssh.session --staff-id N --session-id S`.

Started by the gateway only. It signs in without a password because the gateway has
authenticated the key, and it proves that by redeeming the one-time token the gateway wrote
(hashed) to the session row: the token comes in the environment (CRM_SSH_TOKEN, never on
the command line, which other local users can read), works once, within a minute, for that
staff id and session id. A user who runs this module by hand has no token and gets nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import gc
import os
import sys
import termios


def _take_terminal() -> None:
    """Make the PTY on fd 0 our controlling terminal (we are a new session's leader)."""
    with contextlib.suppress(OSError):
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crm_tui.ssh.session")
    parser.add_argument("--staff-id", type=int, required=True)
    parser.add_argument("--session-id", type=int, required=True)
    args = parser.parse_args(argv)
    token = os.environ.pop("CRM_SSH_TOKEN", "")
    _take_terminal()
    # No cyclic collection while the app starts: it creates ~400 000 long-lived objects and
    # three full collections over them cost ~2 s of CPU (measured). SshCrmApp freezes what
    # start-up made and turns the collector back on once the main screen is up.
    gc.disable()

    from crm_tui.domain.admin import ssh_sessions, staff
    from crm_tui.domain.kernel.context import open_crm
    from crm_tui.domain.kernel.errors import DomainError
    from crm_tui.i18n import set_language

    crm = open_crm(None)
    try:
        claimed = ssh_sessions.claim_session(crm, args.session_id, args.staff_id, token)
    except DomainError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    set_language(claimed.language or "zh_CN")  # the staff record decides, not the client
    branch, team = staff.workplace(crm, claimed.actor)

    from crm_tui.ssh.app import SshCrmApp
    from crm_tui.widgets.session import SignedIn

    SshCrmApp(crm, session=SignedIn(claimed.actor, branch, team)).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

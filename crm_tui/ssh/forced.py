"""`crm ssh-login USER --fingerprint FP`: the OpenSSH alternative to `crm serve-ssh`.

For sites that keep their own sshd: one service account, and in its authorized_keys one
line per staff key with a forced command naming the person and the key, e.g.

    restrict,pty,command="crm ssh-login rm1 --fingerprint SHA256:…" ssh-ed25519 AAAA… rm1@laptop

sshd has checked the key; this checks that the database agrees (the key is registered to
that person, the account is enabled and not locked), opens an audited session row under
the same per-user cap as the gateway, runs the app on sshd's terminal and closes the row.
It refuses to run outside an SSH connection with a terminal.
"""

from __future__ import annotations

import gc
import os
import socket
import sys
import threading

from crm_tui.domain.admin import ssh_keys, ssh_sessions, staff
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import DomainError


class NotUnderSshd(DomainError):
    key = "ssh.forced_only"


def _peer() -> str:
    parts = os.environ.get("SSH_CONNECTION", "").split()
    return f"{parts[0]}:{parts[1]}" if len(parts) >= 2 else ""


def run_forced(crm: Crm, username: str, fingerprint: str) -> int:
    if not os.environ.get("SSH_CONNECTION") or not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise NotUnderSshd()
    peer = _peer()
    actor = ssh_keys.sign_in_by_key(crm, username, fingerprint, peer)
    opened = ssh_sessions.start_session(crm, actor, fingerprint, peer,
                                        f"sshd:{socket.gethostname()}")
    stop = threading.Event()
    reason = "exit"
    try:
        claimed = ssh_sessions.claim_session(crm, opened.session_id, actor.id or 0, opened.token)

        def beat() -> None:  # no gateway beats for this session: we do
            every = crm.policy().ssh.heartbeat_seconds
            while not stop.wait(every):
                try:
                    ssh_sessions.heartbeat(crm, [opened.session_id])
                except Exception:  # noqa: BLE001 - a missed beat only ages the row
                    pass

        threading.Thread(target=beat, name="ssh-heartbeat", daemon=True).start()
        gc.disable()  # while the app starts; SshCrmApp freezes start-up's objects and re-enables
        from crm_tui.i18n import set_language
        from crm_tui.ssh.app import SshCrmApp
        from crm_tui.widgets.session import SignedIn

        set_language(claimed.language or "zh_CN")
        branch, team = staff.workplace(crm, claimed.actor)
        SshCrmApp(crm, session=SignedIn(claimed.actor, branch, team)).run()
    except BaseException:
        reason = "error"
        raise
    finally:
        stop.set()
        ssh_sessions.end_session(crm, opened.session_id, reason)
    return 0

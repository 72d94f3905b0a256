"""The asyncssh server: key auth against the staff table, then a middleware chain per session.

    auth (sign in by key) → require a terminal → audit (session row, start/end events)
    → limits (the per-user cap is counted when the row is written; idle close, heartbeat)
    → spawn (one app process on its own PTY)

A gateway keeps nothing another gateway needs: keys, sessions and the cap live in the
database, so several gateways in front of one PostgreSQL serve one bank.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

from crm_tui.domain.admin import ssh_keys, ssh_sessions
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import DomainError
from crm_tui.i18n import language
from crm_tui.ssh.ctx import Ctx, compose, text
from crm_tui.ssh.middleware import CHAIN
from crm_tui.ssh.spawn import PtyChild, spawn

# Modern algorithms only. asyncssh >= 2.14.2 adds strict key exchange (Terrapin) by itself.
KEX_ALGS = ["mlkem768x25519-sha256", "curve25519-sha256", "curve25519-sha256@libssh.org"]
CIPHERS = ["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-gcm@openssh.com"]
MACS = ["hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com"]  # unused with AEAD
SIGNATURE_ALGS = ["ssh-ed25519", "sk-ssh-ed25519@openssh.com", "ecdsa-sha2-nistp256",
                  "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256"]


class Session(asyncssh.SSHServerSession[bytes]):
    """One channel: collects the PTY request, runs the chain on `shell`, pumps bytes."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.ctx: Ctx | None = None
        self.chan: asyncssh.SSHServerChannel[bytes] | None = None
        self.term: str | None = None
        self.size = (80, 24)
        self.task: asyncio.Task[None] | None = None

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:  # type: ignore[override]
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int],
                      term_modes: Any) -> bool:
        self.term = term_type or "xterm-256color"
        self.size = (term_size[0] or 80, term_size[1] or 24)
        return True

    def exec_requested(self, command: str) -> bool:
        return False  # no commands: the app or nothing

    def subsystem_requested(self, subsystem: str) -> bool:
        return False  # no SFTP, no other subsystem

    def shell_requested(self) -> bool:
        assert self.chan is not None
        env = self.chan.get_environment()
        colorterm = env.get("COLORTERM", "") if env.get("COLORTERM") in ("truecolor", "24bit") else ""
        self.ctx = Ctx(self.conn.gateway, self.chan, self.conn.username, self.conn.fingerprint,
                       self.conn.peer, self.term, self.size[0], self.size[1], str(colorterm),
                       lang=language())
        return True

    def session_started(self) -> None:
        if self.ctx is not None:
            self.task = asyncio.create_task(self._run(self.ctx))
            self.conn.gateway.sessions.add(self.task)
            self.task.add_done_callback(self.conn.gateway.sessions.discard)

    async def _run(self, ctx: Ctx) -> None:
        status = 1
        try:
            status = await compose(CHAIN, spawn)(ctx)
        except Exception as exc:  # noqa: BLE001 - one session's failure never takes the gateway down
            ctx.gateway.log(f"session failed: {type(exc).__name__}: {exc}")
            ctx.say("ssh.failed", detail=type(exc).__name__)
        with contextlib.suppress(Exception):
            ctx.chan.exit(status if 0 <= status < 256 else 1)

    def data_received(self, data: bytes, datatype: Any) -> None:
        if self.ctx is not None:
            self.ctx.last_input = time.monotonic()
            if self.ctx.child is not None:
                self.ctx.child.write(data)

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self.size = (width or 80, height or 24)
        if self.ctx is not None:
            self.ctx.cols, self.ctx.rows = self.size
            if self.ctx.child is not None:
                self.ctx.child.resize(*self.size)

    def pause_writing(self) -> None:
        if self.ctx is not None and self.ctx.child is not None:
            self.ctx.child.pause()

    def resume_writing(self) -> None:
        if self.ctx is not None and self.ctx.child is not None:
            self.ctx.child.resume()

    def eof_received(self) -> bool:
        if self.ctx is not None:
            self.ctx.closed.set()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.ctx is not None:
            self.ctx.closed.set()


class Connection(asyncssh.SSHServer):
    """One TCP connection. Password and keyboard-interactive auth are off; a key is checked
    against the staff table each time asyncssh asks, probes included (stateless)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.conn: asyncssh.SSHServerConnection | None = None
        self.username = ""
        self.peer = ""
        self.fingerprint = ""
        self._last_ok = ""
        self._refused: str = ""
        self._banner_sent = False
        self._authed = False

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("", 0)
        self.peer = f"{peer[0]}:{peer[1]}" if peer and peer[0] else ""

    def begin_auth(self, username: str) -> bool:
        self.username = username
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        fp = key.get_fingerprint("sha256")
        ok = await asyncio.to_thread(ssh_keys.key_matches, self.gateway.crm, username, fp)
        if ok:
            self._last_ok = fp
            return True
        self._refused = self._refused or fp
        if not self._banner_sent and self.conn is not None:
            self._banner_sent = True
            with contextlib.suppress(Exception):
                self.conn.send_auth_banner(text(language(), "ssh.banner_refused",
                                                username=username[:50]) + "\n")
        return False

    def auth_completed(self) -> None:
        self._authed = True
        self.fingerprint = self._last_ok  # the key whose signature asyncssh just verified

    def session_requested(self) -> Session:
        return Session(self)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._authed and self._refused:
            # One audit row per refused connection (not per probe): who tried which key.
            self.gateway.audit_refusal(self.username, self._refused, self.peer)


@dataclass
class Gateway:
    crm: Crm
    host_key: asyncssh.SSHKey
    name: str = field(default_factory=socket.gethostname)
    child_argv: tuple[str, ...] = (sys.executable, "-m", "crm_tui.ssh.session")
    live: set[int] = field(default_factory=set)
    children: dict[int, PtyChild] = field(default_factory=dict)
    log: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr))
    idle_seconds: float | None = None  # overrides the policy's idle_close_minutes (tests)
    sessions: set[asyncio.Task[None]] = field(default_factory=set)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def audit_refusal(self, username: str, fingerprint: str, peer: str) -> None:
        def refuse() -> None:
            with contextlib.suppress(DomainError):
                ssh_keys.sign_in_by_key(self.crm, username, fingerprint, peer)

        task = asyncio.get_running_loop().create_task(asyncio.to_thread(refuse))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.crm.policy().ssh.heartbeat_seconds)
            with contextlib.suppress(Exception):
                await asyncio.to_thread(ssh_sessions.heartbeat, self.crm, sorted(self.live))

    async def listen(self, host: str, port: int) -> asyncssh.SSHAcceptor:
        acceptor = await asyncssh.create_server(
            lambda: Connection(self), host, port,
            server_host_keys=[self.host_key],
            kex_algs=KEX_ALGS, encryption_algs=CIPHERS, mac_algs=MACS,
            signature_algs=SIGNATURE_ALGS,  # host key algs: the ed25519 host key only
            compression_algs=None,
            password_auth=False, kbdint_auth=False, gss_kex=False, gss_auth=False,
            host_based_auth=False,
            agent_forwarding=False, x11_forwarding=False, allow_scp=False,
            line_editor=False, encoding=None, login_timeout=30,
            keepalive_interval=30, keepalive_count_max=4,
        )
        task = asyncio.create_task(self.heartbeat())
        self._tasks.add(task)
        return acceptor

    async def close(self) -> None:
        """End every session as a closed connection would (their end events get written)."""
        for child in list(self.children.values()):
            await child.terminate(grace=1.0)
        if self.sessions:
            await asyncio.wait(list(self.sessions), timeout=10)
        for task in list(self._tasks):
            task.cancel()


def bound_port(acceptor: asyncssh.SSHAcceptor) -> int:
    return acceptor.get_port()


async def serve(crm: Crm, host: str, port: int, host_key_path: Path,
                ready: Callable[[str, int, str], None] | None = None) -> None:
    """Listen until SIGTERM/SIGINT; then stop accepting and end every session cleanly (the
    app processes get SIGHUP, the end events are written)."""
    from crm_tui.ssh.hostkey import load_or_create

    key = load_or_create(host_key_path, crm)
    gateway = Gateway(crm, key)
    acceptor = await gateway.listen(host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if ready:
        ready(host, bound_port(acceptor), key.get_fingerprint("sha256"))
    try:
        await stop.wait()
    finally:
        acceptor.close()
        await gateway.close()

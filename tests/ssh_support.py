"""An SSH gateway in the test's event loop and an asyncssh client whose screen is a pyte
terminal, so tests read what a remote user would see."""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncssh
import pyte

from crm_tui.domain.admin import ssh_keys
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.ssh.server import Gateway
from crm_tui.store.crypto import write_key_file


def new_key() -> asyncssh.SSHKey:
    return asyncssh.generate_private_key("ssh-ed25519")


def register(crm: Crm, username: str, key: asyncssh.SSHKey) -> str:
    line = key.export_public_key("openssh").decode()
    return ssh_keys.add_key(crm, system_actor("test"), username, line).fingerprint


@asynccontextmanager
async def gateway(crm: Crm, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A listening gateway on an ephemeral port; the child reads the same store and key file."""
    assert crm.key_file is not None
    if not crm.key_file.exists():
        write_key_file(crm.key_file, crm.keys)
    gw = Gateway(crm, new_key(), name="test-gw", log=lambda line: None)
    acceptor = await gw.listen("127.0.0.1", 0)
    gw.port = acceptor.get_port()  # type: ignore[attr-defined]
    try:
        yield gw
    finally:
        acceptor.close()
        await gw.close()


def connect(gw: Gateway, username: str, key: asyncssh.SSHKey, **kw: Any):  # type: ignore[no-untyped-def]
    return asyncssh.connect("127.0.0.1", gw.port, username=username,  # type: ignore[attr-defined]
                            client_keys=[key], known_hosts=None, agent_path=None,
                            password=None, kbdint_auth=False, **kw)


class Term:
    """The client end of one PTY session, rendered by pyte."""

    def __init__(self, cols: int = 80, rows: int = 24) -> None:
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.chan: asyncssh.SSHClientChannel[bytes] | None = None
        self.closed = asyncio.Event()
        self.exit_status: int | None = None
        self.changed = asyncio.Event()
        self.raw = bytearray()

    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def wait_for(self, needle: str, timeout: float = 20.0) -> float:
        """Seconds until `needle` is on screen."""
        start = time.monotonic()
        while needle not in self.text():
            if self.closed.is_set():
                raise AssertionError(f"session closed before {needle!r}:\n{self.text()}")
            self.changed.clear()
            remaining = timeout - (time.monotonic() - start)
            if remaining <= 0:
                raise AssertionError(f"{needle!r} not on screen after {timeout}s:\n{self.text()}")
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                pass
        return time.monotonic() - start

    def send(self, data: str) -> None:
        assert self.chan is not None
        self.chan.write(data.encode())

    def resize(self, cols: int, rows: int) -> None:
        assert self.chan is not None
        self.screen.resize(rows, cols)
        self.chan.change_terminal_size(cols, rows)


class _Session(asyncssh.SSHClientSession[bytes]):
    def __init__(self, term: Term) -> None:
        self.term = term

    def data_received(self, data: bytes, datatype: Any) -> None:
        self.term.raw += data
        self.term.stream.feed(data)
        self.term.changed.set()

    def exit_status_received(self, status: int) -> None:
        self.term.exit_status = status

    def connection_lost(self, exc: Exception | None) -> None:
        self.term.closed.set()
        self.term.changed.set()


async def open_terminal(conn: asyncssh.SSHClientConnection, cols: int = 80, rows: int = 24,
                        pty: bool = True) -> Term:
    term = Term(cols, rows)
    kw: dict[str, Any] = {"term_type": "xterm-256color", "term_size": (cols, rows)} if pty else {}
    chan, _ = await conn.create_session(lambda: _Session(term), encoding=None, **kw)
    term.chan = chan
    return term

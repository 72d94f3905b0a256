"""One app process on its own pseudo-terminal, pumped to and from an SSH channel.

The child is a session leader (`start_new_session=True`) and takes the PTY as its
controlling terminal itself (`crm_tui.ssh.session` does TIOCSCTTY on fd 0), so the kernel
delivers SIGWINCH and SIGHUP to it as to any login shell.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pty
import signal
import struct
import termios
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crm_tui.ssh.ctx import Ctx

READ_CHUNK = 65536
PASS_ENV = ("PATH", "HOME", "PYTHONPATH", "VIRTUAL_ENV", "TZ")


def set_winsize(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", max(rows, 1), max(cols, 1), 0, 0))


class PtyChild:
    """A child process on a fresh PTY. Output goes to `on_output`; `write` feeds its input."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], cols: int, rows: int,
                 on_output: Callable[[bytes], None]) -> None:
        self.argv, self.env, self.cols, self.rows = list(argv), dict(env), cols, rows
        self.on_output = on_output
        self.proc: asyncio.subprocess.Process | None = None
        self.master = -1
        self._pending = bytearray()
        self._reading = False
        self._eof = asyncio.Event()

    async def start(self) -> None:
        master, slave = pty.openpty()
        set_winsize(slave, self.cols, self.rows)
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv, stdin=slave, stdout=slave, stderr=slave, env=self.env,
                start_new_session=True, close_fds=True)
        finally:
            os.close(slave)  # the child holds it; our copy would hide its hang-up from us
        self.master = master
        os.set_blocking(master, False)
        self.resume()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    # -- output: child -> channel -----------------------------------------------------

    def _readable(self) -> None:
        try:
            data = os.read(self.master, READ_CHUNK)
        except BlockingIOError:
            return
        except OSError:  # EIO: every slave descriptor closed (the child is gone)
            data = b""
        if not data:
            self.pause()
            self._eof.set()
            return
        self.on_output(data)

    def pause(self) -> None:
        """Stop reading while the channel's send buffer is full (the client is slow)."""
        if self._reading and self.master >= 0:
            asyncio.get_running_loop().remove_reader(self.master)
            self._reading = False

    def resume(self) -> None:
        if not self._reading and self.master >= 0 and not self._eof.is_set():
            asyncio.get_running_loop().add_reader(self.master, self._readable)
            self._reading = True

    # -- input: channel -> child ------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self.master < 0:
            return
        if self._pending:
            self._pending += data
            return
        try:
            n = os.write(self.master, data)
        except BlockingIOError:
            n = 0
        except OSError:
            return
        if n < len(data):
            self._pending += data[n:]
            asyncio.get_running_loop().add_writer(self.master, self._writable)

    def _writable(self) -> None:
        try:
            n = os.write(self.master, self._pending)
        except BlockingIOError:
            return
        except OSError:
            n = len(self._pending)
        del self._pending[:n]
        if not self._pending:
            asyncio.get_running_loop().remove_writer(self.master)

    def resize(self, cols: int, rows: int) -> None:
        """TIOCSWINSZ on the PTY, then SIGWINCH to the child's process group (the kernel
        sends one too when the size changed; a second is harmless)."""
        self.cols, self.rows = cols, rows
        if self.master >= 0:
            set_winsize(self.master, cols, rows)
        if self.proc and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGWINCH)

    # -- end --------------------------------------------------------------------------

    async def wait(self) -> int:
        assert self.proc is not None
        code = await self.proc.wait()
        # Drain what the child wrote before it exited (its last frame, its error line).
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._eof.wait(), 0.5)
        return code

    async def terminate(self, grace: float = 2.0) -> None:
        """SIGHUP to the whole group, as a closing terminal would; SIGKILL after `grace`."""
        proc = self.proc
        if proc is not None and proc.returncode is None:
            for sig in (signal.SIGHUP, signal.SIGKILL):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, sig)
                try:
                    await asyncio.wait_for(proc.wait(), grace)
                    break
                except TimeoutError:
                    continue
        self.close()

    def close(self) -> None:
        if self.master >= 0:
            self.pause()
            loop = asyncio.get_running_loop()
            loop.remove_writer(self.master)
            os.close(self.master)
            self.master = -1


async def spawn(ctx: Ctx) -> int:
    """The app process for this session; ends when either side does."""
    assert ctx.actor is not None and ctx.session_id is not None
    env = {k: os.environ[k] for k in PASS_ENV if k in os.environ}
    env.update({k: v for k, v in os.environ.items()
                if k.startswith("CRM_") and k not in ("CRM_LANG", "CRM_SSH_TOKEN")})
    env.update({"TERM": ctx.term or "xterm-256color", "LANG": "C.UTF-8",
                "CRM_DATABASE_URL": ctx.gateway.crm.db.url, "CRM_SSH_TOKEN": ctx.token})
    if ctx.gateway.crm.key_file:
        env["CRM_KEY_FILE"] = str(ctx.gateway.crm.key_file)
    if ctx.colorterm:
        env["COLORTERM"] = ctx.colorterm
    # Never COLUMNS/LINES: Textual would read them before the PTY's real size.
    argv = [*ctx.gateway.child_argv, "--staff-id", str(ctx.actor.id),
            "--session-id", str(ctx.session_id)]
    first = True

    def output(data: bytes) -> None:
        nonlocal first
        if first:  # the idle clock starts when the app is up, not while it starts
            first = False
            ctx.last_input = time.monotonic()
        try:
            ctx.chan.write(data)
        except (BrokenPipeError, ConnectionError):  # the client left; the child is ended next
            ctx.closed.set()

    child = PtyChild(argv, env, ctx.cols, ctx.rows, output)
    await child.start()
    ctx.child = child
    ctx.gateway.children[ctx.session_id] = child
    exited = asyncio.create_task(child.wait())
    closed = asyncio.create_task(ctx.closed.wait())
    try:
        done, _ = await asyncio.wait({exited, closed}, return_when=asyncio.FIRST_COMPLETED)
        if exited in done:
            ctx.end_reason = "exit"
            return exited.result()
        await child.terminate()
        return 0
    finally:
        closed.cancel()
        if not exited.done():
            await child.terminate()
            exited.cancel()
        child.close()
        ctx.gateway.children.pop(ctx.session_id, None)

"""The SSH front door end to end: an asyncssh client, keys made here, the screen via pyte."""

from __future__ import annotations

import asyncio
import json
import os

import asyncssh
import pytest
from sqlalchemy import select

from crm_tui.store.models import AuditEvent
from crm_tui.store.models_ssh import SshSession
from tests.ssh_support import Term, connect, gateway, new_key, open_terminal, register
from tests.ssh_support import _Session as _ClientSession


def _events(crm, action: str) -> list[dict]:  # type: ignore[no-untyped-def]
    with crm.db.read() as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.action == action)
                         .order_by(AuditEvent.id)).all()
    return [{"actor": r.actor_name, **(json.loads(r.after) if r.after else {})} for r in rows]


async def _until(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        assert loop.time() < end, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_key_sign_in_lands_on_main_screen_resizes_and_ends_child(
        sqlite_crm, sqlite_world, tmp_path) -> None:
    key = new_key()
    fp = register(sqlite_crm, "rm1", key)
    async with gateway(sqlite_crm, tmp_path) as gw:
        async with connect(gw, "rm1", key) as conn:
            term = await open_terminal(conn, 100, 30)
            await term.wait_for("王芳")  # rm1's name on the status line: signed in as herself
            assert "rm1" not in gw.name
            [child] = gw.children.values()
            pid = child.pid
            assert pid is not None
            # A resize reaches the app: the kernel's size for its terminal changes ...
            term.resize(120, 40)
            await _until(lambda: _size_of(pid) == (40, 120))
            # ... and the app redraws for it: its footer moves down to the new 40th row
            try:
                await _until(lambda: bool(term.screen.display[39].strip()), 20)
            except AssertionError:
                raise AssertionError("no redraw at 120x40:\n" + term.text()) from None
            term.chan.close()  # type: ignore[union-attr]
            await _until(lambda: not _alive(pid))
        await _until(lambda: bool(_events(sqlite_crm, "ssh.session_end")))
    [login] = _events(sqlite_crm, "auth.ssh_login")
    assert login["actor"] == "rm1" and login["fingerprint"] == fp and login["peer"].startswith("127.")
    [start] = _events(sqlite_crm, "ssh.session_start")
    assert start["user"] == "rm1" and start["fingerprint"] == fp and start["gateway"] == "test-gw"
    [end] = _events(sqlite_crm, "ssh.session_end")
    assert end["user"] == "rm1" and end["fingerprint"] == fp and end["duration_s"] > 0
    with sqlite_crm.db.read() as s:
        row = s.scalars(select(SshSession)).one()
    assert row.ended_at is not None and row.claimed_at is not None and row.token_hash == ""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _size_of(pid: int) -> tuple[int, int] | None:
    """The child's terminal size as the kernel reports it on its controlling tty."""
    import fcntl
    import struct
    import termios

    try:
        fd = os.open(f"/proc/{pid}/fd/0", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return None
    try:
        rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
        return rows, cols
    finally:
        os.close(fd)


async def test_unknown_key_and_another_users_key_are_refused(sqlite_crm, sqlite_world,
                                                             tmp_path) -> None:
    mine, stranger = new_key(), new_key()
    register(sqlite_crm, "rm1", mine)
    async with gateway(sqlite_crm, tmp_path) as gw:
        with pytest.raises(asyncssh.PermissionDenied):
            async with connect(gw, "rm1", stranger):
                pass
        with pytest.raises(asyncssh.PermissionDenied):  # rm1's key does not open rm2
            async with connect(gw, "rm2", mine):
                pass
        await _until(lambda: len(_events(sqlite_crm, "auth.ssh_refused")) == 2)
        assert not gw.children
    reasons = sorted((e["actor"], e["reason"]) for e in _events(sqlite_crm, "auth.ssh_refused"))
    assert reasons == [("rm1", "unknown_key"), ("rm2", "other_users_key")]
    assert _events(sqlite_crm, "ssh.session_start") == []


async def test_disabled_or_locked_account_gets_a_message_and_no_app(sqlite_crm, sqlite_world,
                                                                    tmp_path) -> None:
    from datetime import timedelta

    from crm_tui.domain.admin import staff
    from crm_tui.domain.kernel.actor import system_actor
    from crm_tui.store.models import Staff
    from crm_tui.store.types import utcnow

    k1, k2 = new_key(), new_key()
    register(sqlite_crm, "rm1", k1)
    register(sqlite_crm, "rm2", k2)
    staff.disable_user(sqlite_crm, system_actor("test"), "rm1")
    with sqlite_crm.db.write() as s:
        rm2 = s.scalars(select(Staff).where(Staff.username == "rm2")).one()
        rm2.locked_until = utcnow() + timedelta(minutes=20)
    async with gateway(sqlite_crm, tmp_path) as gw:
        for user, key, words in (("rm1", k1, "disabled"), ("rm2", k2, "locked")):
            async with connect(gw, user, key) as conn:
                term = await open_terminal(conn)
                await term.wait_for(words)
                await asyncio.wait_for(term.closed.wait(), 10)
                assert term.exit_status == 1
        assert not gw.children
    assert sorted(e["reason"] for e in _events(sqlite_crm, "auth.ssh_refused")) == ["disabled",
                                                                                    "locked"]


async def test_no_pty_exec_sftp_and_forwarding_are_refused(sqlite_crm, sqlite_world,
                                                           tmp_path) -> None:
    key = new_key()
    register(sqlite_crm, "rm1", key)
    async with gateway(sqlite_crm, tmp_path) as gw, connect(gw, "rm1", key) as conn:
        term = await open_terminal(conn, pty=False)  # a shell without a terminal
        await term.wait_for("需要终端")  # rm1 never chose a language: the branch's, zh-CN
        await asyncio.wait_for(term.closed.wait(), 10)
        assert term.exit_status == 1
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.run("cat /etc/passwd", check=True)
        with pytest.raises((asyncssh.ChannelOpenError, asyncssh.SFTPError)):
            async with conn.start_sftp_client():
                pass
        with pytest.raises(asyncssh.ChannelOpenError):  # local (-L) forwarding
            await conn.create_connection(asyncssh.SSHTCPSession, "127.0.0.1", gw.port)
        with pytest.raises(asyncssh.ChannelListenError):  # remote (-R) forwarding
            await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", 9)
        assert not gw.children


async def test_agent_forwarding_is_not_granted(sqlite_crm, sqlite_world, tmp_path) -> None:
    key = new_key()
    register(sqlite_crm, "rm1", key)
    async with gateway(sqlite_crm, tmp_path) as gw:
        async with connect(gw, "rm1", key, agent_forwarding=True) as conn:
            term = await open_terminal(conn)
            await term.wait_for("王芳")
            [child] = gw.children.values()
            with open(f"/proc/{child.pid}/environ", "rb") as fh:
                env = dict(line.split(b"=", 1) for line in fh.read().split(b"\0") if b"=" in line)
            assert b"SSH_AUTH_SOCK" not in env
            assert b"COLUMNS" not in env and b"LINES" not in env
            assert env[b"TERM"] == b"xterm-256color"


async def test_language_comes_from_the_staff_record_not_the_client(sqlite_crm, sqlite_world,
                                                                   tmp_path) -> None:
    from crm_tui.domain.admin import preferences

    key = new_key()
    register(sqlite_crm, "rm1", key)
    preferences.set_language(sqlite_crm, sqlite_world["rm1"], "en")
    async with gateway(sqlite_crm, tmp_path) as gw, connect(gw, "rm1", key) as conn:
        term = Term(80, 24)
        chan, _ = await conn.create_session(lambda: _ClientSession(term), encoding=None,
                                            term_type="xterm", term_size=(80, 24),
                                            env={"LANG": "zh_CN.UTF-8", "LC_ALL": "zh_CN.UTF-8"})
        term.chan = chan
        await term.wait_for("Customers")  # English navigation despite a Chinese client locale
        assert "客户" not in term.text().replace("王芳", "")


def test_the_session_entry_point_needs_the_gateways_one_time_token(sqlite_crm, sqlite_world,
                                                                   tmp_path) -> None:
    import subprocess
    import sys

    from crm_tui.domain.admin import ssh_sessions
    from crm_tui.domain.kernel.errors import AuthFailed
    from crm_tui.store.crypto import write_key_file

    write_key_file(sqlite_crm.key_file, sqlite_crm.keys)
    rm1 = sqlite_world["rm1"]
    opened = ssh_sessions.start_session(sqlite_crm, rm1, "SHA256:x", "127.0.0.1:1", "gw")
    env = {**os.environ, "CRM_DATABASE_URL": sqlite_crm.db.url,
           "CRM_KEY_FILE": str(sqlite_crm.key_file), "CRM_SSH_TOKEN": "guessed"}
    by_hand = subprocess.run([sys.executable, "-m", "crm_tui.ssh.session", "--staff-id",
                              str(rm1.id), "--session-id", str(opened.session_id)],
                             env=env, capture_output=True, text=True, timeout=60,
                             stdin=subprocess.DEVNULL)
    assert by_hand.returncode == 1 and "not valid" in by_hand.stderr
    with pytest.raises(AuthFailed):  # right token, wrong person
        ssh_sessions.claim_session(sqlite_crm, opened.session_id, sqlite_world["sup1"].id,
                                   opened.token)
    assert ssh_sessions.claim_session(sqlite_crm, opened.session_id, rm1.id,
                                      opened.token).actor.username == "rm1"
    with pytest.raises(AuthFailed):  # once only
        ssh_sessions.claim_session(sqlite_crm, opened.session_id, rm1.id, opened.token)


async def test_per_user_cap_and_idle_close(sqlite_crm, sqlite_world, tmp_path) -> None:
    from crm_tui.domain.kernel.actor import system_actor
    from crm_tui.domain.policy.document import activate_policy, default_policy_text

    text = default_policy_text().replace("max_sessions_per_user = 3", "max_sessions_per_user = 1")
    with sqlite_crm.db.write() as s:
        activate_policy(sqlite_crm.db, s, system_actor("test"), text)
    sqlite_crm.forget_policy()
    key = new_key()
    register(sqlite_crm, "rm1", key)
    async with gateway(sqlite_crm, tmp_path) as gw:
        async with connect(gw, "rm1", key) as conn:
            first = await open_terminal(conn)
            await first.wait_for("王芳")
            second = await open_terminal(conn)  # over the cap of 1
            await second.wait_for("已有 1 个")  # in rm1's language (zh-CN)
            await asyncio.wait_for(second.closed.wait(), 10)
            assert len(gw.children) == 1 and not first.closed.is_set()
            # No keystroke for the idle time: the session is closed with a word why.
            gw.idle_seconds = 2.0  # instead of the policy's minutes; read on the next tick
            await asyncio.wait_for(first.closed.wait(), 20)
            assert "无操作".encode() in first.raw
        await _until(lambda: len(_events(sqlite_crm, "ssh.session_end")) == 1)
    assert _events(sqlite_crm, "ssh.session_refused")[0]["reason"] == "cap"
    assert _events(sqlite_crm, "ssh.session_end")[0]["reason"] == "idle"

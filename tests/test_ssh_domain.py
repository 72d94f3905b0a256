"""Key identity and session records in the domain, on SQLite and PostgreSQL; the CLI."""

from __future__ import annotations

import json
from datetime import timedelta

import asyncssh
import pytest
from sqlalchemy import update

from crm_tui.domain.admin import preferences, ssh_keys, ssh_sessions
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.kernel.errors import AuthFailed, Blocked, PermissionDenied, ValidationFailed
from crm_tui.store.models_ssh import SshSession
from crm_tui.store.types import utcnow

ADMIN = system_actor("test")


def _line(alg: str = "ssh-ed25519", **kw) -> str:  # type: ignore[no-untyped-def]
    return asyncssh.generate_private_key(alg, comment="rm1@laptop", **kw) \
        .export_public_key("openssh").decode()


def test_keys_add_list_remove_and_one_key_one_person(crm, world) -> None:
    line = _line()
    view = ssh_keys.add_key(crm, ADMIN, "rm1", line)
    assert view.fingerprint.startswith("SHA256:") and view.comment == "rm1@laptop"
    assert ssh_keys.key_matches(crm, "rm1", view.fingerprint)
    assert not ssh_keys.key_matches(crm, "rm2", view.fingerprint)
    with pytest.raises(ValidationFailed) as err:
        ssh_keys.add_key(crm, ADMIN, "rm2", line)
    assert "already registered to rm1" in err.value.message
    assert [k.username for k in ssh_keys.list_keys(crm, ADMIN)] == ["rm1"]
    with pytest.raises(PermissionDenied):
        ssh_keys.list_keys(crm, world["rm1"])
    ssh_keys.remove_key(crm, ADMIN, "rm1", view.fingerprint)
    assert ssh_keys.list_keys(crm, ADMIN, "rm1") == []
    assert not ssh_keys.key_matches(crm, "rm1", view.fingerprint)


@pytest.mark.parametrize("text, words", [
    ("", "one public key line"),
    ("ssh-ed25519 AAAAnotbase64", "not an OpenSSH public key"),
    (None, "too short"),  # RSA 2048
])
def test_bad_keys_get_a_clear_message(sqlite_crm, sqlite_world, text, words) -> None:
    if text is None:
        text = _line("ssh-rsa", key_size=2048)
    with pytest.raises(ValidationFailed) as err:
        ssh_keys.add_key(sqlite_crm, ADMIN, "rm1", text)
    assert words in err.value.message and "SSH key" in err.value.message


def test_sign_in_by_key_refusals_are_audited(crm, world) -> None:
    fp = ssh_keys.add_key(crm, ADMIN, "rm1", _line()).fingerprint
    assert ssh_keys.sign_in_by_key(crm, "rm1", fp, "10.0.0.5:50000").username == "rm1"
    with pytest.raises(AuthFailed, match="not registered for rm2"):
        ssh_keys.sign_in_by_key(crm, "rm2", fp, "10.0.0.5:50001")
    with pytest.raises(AuthFailed):
        ssh_keys.sign_in_by_key(crm, "rm1", "SHA256:unknown", "10.0.0.5:50002")


def test_session_cap_counts_live_rows_across_gateways(crm, world) -> None:
    rm1 = world["rm1"]
    opened = [ssh_sessions.start_session(crm, rm1, "SHA256:k", "p", f"gw{i}") for i in range(3)]
    with pytest.raises(Blocked, match="already have 3"):
        ssh_sessions.start_session(crm, rm1, "SHA256:k", "p", "gw9")
    ssh_sessions.start_session(crm, world["rm2"], "SHA256:j", "p", "gw0")  # per user
    assert ssh_sessions.end_session(crm, opened[0].session_id, "closed") is not None
    ssh_sessions.start_session(crm, rm1, "SHA256:k", "p", "gw9")
    # A gateway that died stops beating: after three heartbeats its sessions no longer count.
    stale = utcnow() - timedelta(seconds=3 * crm.policy().ssh.heartbeat_seconds + 1)
    with crm.db.write() as s:
        s.execute(update(SshSession).where(SshSession.gateway == "gw1").values(last_seen_at=stale))
    assert ssh_sessions.live_sessions(crm, rm1.id) == 2
    ssh_sessions.start_session(crm, rm1, "SHA256:k", "p", "gw8")


def test_language_preference(crm, world) -> None:
    assert preferences.language_of(crm, world["rm1"]) == ""
    preferences.set_language(crm, world["rm1"], "en")
    assert preferences.language_of(crm, world["rm1"]) == "en"
    with pytest.raises(ValidationFailed):
        preferences.set_language(crm, world["rm1"], "fr")


def test_cli_add_list_remove_keys(tmp_path) -> None:
    from tests.cli_support import add_org, crm_cli, init_db

    db = init_db(tmp_path / "crm.db")
    add_org(db)
    pub = tmp_path / "id_ed25519.pub"
    pub.write_text(_line())
    r = crm_cli("users", "add-key", "rm1", str(pub), "--db", str(db))
    assert r.code == 0, r.err
    fp = r.out.split()[1]
    assert fp.startswith("SHA256:") and "rm1" in r.out
    again = crm_cli("users", "add-key", "rm2", str(pub), "--db", str(db))
    assert again.code != 0 and "already registered to rm1" in again.err
    assert "Traceback" not in again.err
    missing = crm_cli("users", "add-key", "rm1", str(tmp_path / "nope.pub"), "--db", str(db))
    assert missing.code != 0 and "Cannot read key file" in missing.err
    listed = crm_cli("users", "keys", "--json", "--db", str(db))
    assert [(k["username"], k["fingerprint"]) for k in json.loads(listed.out)] == [("rm1", fp)]
    r = crm_cli("users", "remove-key", "rm1", fp, "--db", str(db))
    assert r.code == 0, r.err
    assert json.loads(crm_cli("users", "keys", "rm1", "--json", "--db", str(db)).out) == []
    gone = crm_cli("users", "remove-key", "rm1", fp, "--db", str(db))
    assert gone.code != 0 and "has no key" in gone.err


async def test_serve_ssh_command_listens_and_keeps_its_host_key(tmp_path) -> None:
    """The real `crm serve-ssh` in its own process: host key 0600, same key after a restart,
    and a registered key reaches the main screen."""
    import asyncio
    import os
    import stat
    import sys

    from tests.cli_support import add_org, crm_cli, init_db
    from tests.ssh_support import Term, _Session

    db = init_db(tmp_path / "crm.db")
    add_org(db)
    key = asyncssh.generate_private_key("ssh-ed25519")
    pub = tmp_path / "k.pub"
    pub.write_text(key.export_public_key("openssh").decode())
    assert crm_cli("users", "add-key", "rm1", str(pub), "--db", str(db)).code == 0
    fingerprints = []
    for attempt in range(2):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "crm_tui.cli", "serve-ssh", "--port", "0", "--db", str(db),
            stdout=asyncio.subprocess.PIPE, env={**os.environ, "CRM_LANG": "en"})
        try:
            line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()  # type: ignore[union-attr]
            assert "listening on 127.0.0.1:" in line, line
            port = int(line.split("127.0.0.1:")[1].split()[0])
            fingerprints.append(line.split("host key ")[1].rstrip(").\n"))
            if attempt == 0:
                async with asyncssh.connect("127.0.0.1", port, username="rm1", client_keys=[key],
                                            known_hosts=None, agent_path=None) as conn:
                    term = Term()
                    chan, _ = await conn.create_session(lambda t=term: _Session(t), encoding=None,
                                                        term_type="xterm", term_size=(80, 24))
                    term.chan = chan
                    await term.wait_for("王芳")
                    assert conn.get_extra_info("send_cipher") in (
                        "chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com")
                    proc.terminate()  # SIGTERM while the session is open: it is ended cleanly
                    await asyncio.wait_for(term.closed.wait(), 30)
        finally:
            if proc.returncode is None:
                proc.terminate()
            await proc.wait()
    from tests.cli_support import sql

    ends = [a for (a,) in sql(db, "SELECT action FROM audit_event "
                              "WHERE action LIKE 'ssh.session%' ORDER BY id")]
    assert ends == ["ssh.session_start", "ssh.session_end"]
    hostkey = tmp_path / "crm.db.ssh_host_ed25519_key"
    assert stat.S_IMODE(hostkey.stat().st_mode) == 0o600
    assert fingerprints[0] == fingerprints[1]


def test_ssh_login_refuses_outside_an_ssh_terminal(tmp_path, monkeypatch) -> None:
    from tests.cli_support import crm_cli, init_db

    db = init_db(tmp_path / "crm.db")
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    r = crm_cli("ssh-login", "admin", "--fingerprint", "SHA256:x", "--db", str(db))
    assert r.code != 0 and "only as the forced command" in r.err


async def test_ssh_login_as_an_openssh_forced_command(tmp_path) -> None:
    """What sshd would run for an authorized_keys line: the app on its terminal, signed in
    by the key's fingerprint, with the session audited like the gateway's."""
    import asyncio
    import os
    import sys

    import pyte

    from crm_tui.domain.kernel.context import open_crm
    from crm_tui.ssh.spawn import PtyChild
    from tests.cli_support import add_org, crm_cli, init_db

    db = init_db(tmp_path / "crm.db")
    add_org(db)
    pub = tmp_path / "k.pub"
    pub.write_text(_line())
    fp = crm_cli("users", "add-key", "rm1", str(pub), "--db", str(db)).out.split()[1]
    screen = pyte.Screen(100, 30)
    stream = pyte.ByteStream(screen)
    env = {**os.environ, "SSH_CONNECTION": "10.8.0.7 50123 10.8.0.1 22", "TERM": "xterm",
           "CRM_LANG": "en"}
    child = PtyChild([sys.executable, "-m", "crm_tui.cli", "ssh-login", "rm1", "--fingerprint",
                      fp, "--db", str(db)], env, 100, 30, stream.feed)
    await child.start()
    try:
        for _ in range(600):
            if "王芳" in "\n".join(screen.display):
                break
            await asyncio.sleep(0.05)
        assert "王芳" in "\n".join(screen.display), "\n".join(screen.display)
        child.write(b"\x11")  # Ctrl+Q quits the app
        assert await asyncio.wait_for(child.wait(), 30) == 0
    finally:
        await child.terminate()
    crm = open_crm(str(db))
    try:
        from sqlalchemy import select

        from crm_tui.store.models import AuditEvent

        with crm.db.read() as s:
            rows = s.execute(select(AuditEvent.action, AuditEvent.after)
                             .where(AuditEvent.action.like("%ssh%"))).all()
    finally:
        crm.db.dispose()
    actions = [a for a, _ in rows]
    assert actions == ["ssh.key_add", "auth.ssh_login", "ssh.session_start", "ssh.session_end"]
    end = json.loads(rows[-1][1])
    assert end["peer"] == "10.8.0.7:50123" and end["fingerprint"] == fp
    assert end["gateway"].startswith("sshd:") and end["reason"] == "exit"

"""`crm serve-ssh` and `crm users add-key | remove-key | keys`: the SSH front door."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from crm_tui.cli_commands.base import (
    CliError,
    DbOption,
    JsonOption,
    group,
    local_time,
    out,
    print_json,
    print_table,
    store,
)
from crm_tui.domain.admin import ssh_keys
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.i18n import t

Username = Annotated[str, typer.Argument(metavar="USERNAME", help=t("cli.users.arg_username"))]


def _read_key(keyfile: str) -> str:
    if keyfile == "-":
        return sys.stdin.read()
    try:
        return Path(keyfile).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise CliError("cli.ssh.no_keyfile", path=keyfile) from None


def _register_keys(app: typer.Typer) -> None:
    users = group(app, "users", t("cli.users.help"))

    @users.command("add-key", help=t("cli.ssh.add_key_help"))
    def add_key(
        username: Username,
        keyfile: Annotated[str, typer.Argument(metavar="KEYFILE", help=t("cli.ssh.arg_keyfile"))],
        db: DbOption = None,
    ) -> None:
        text = _read_key(keyfile)
        with store(db) as crm:
            view = ssh_keys.add_key(crm, system_actor(), username, text)
        out(t("cli.ssh.key_added", fingerprint=view.fingerprint, username=username))

    @users.command("remove-key", help=t("cli.ssh.remove_key_help"))
    def remove_key(
        username: Username,
        fingerprint: Annotated[str, typer.Argument(metavar="FINGERPRINT",
                                                   help=t("cli.ssh.arg_fingerprint"))],
        db: DbOption = None,
    ) -> None:
        with store(db) as crm:
            ssh_keys.remove_key(crm, system_actor(), username, fingerprint)
        out(t("cli.ssh.key_removed", fingerprint=fingerprint, username=username))

    @users.command("keys", help=t("cli.ssh.keys_help"))
    def keys(
        username: Annotated[str | None, typer.Argument(metavar="[USERNAME]",
                                                       help=t("cli.users.arg_username"))] = None,
        db: DbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        with store(db) as crm:
            rows = ssh_keys.list_keys(crm, system_actor(), username)
            if as_json:
                print_json([asdict(r) for r in rows])
                return
            print_table([t("field.username"), t("cli.ssh.col_fingerprint"), t("cli.ssh.col_type"),
                         t("cli.ssh.col_comment"), t("cli.ssh.col_added"),
                         t("cli.ssh.col_last_used")],
                        [(r.username, r.fingerprint, r.algorithm, r.comment,
                          local_time(r.added_at, crm.tz), local_time(r.last_used_at, crm.tz))
                         for r in rows])


def _register_serve(app: typer.Typer) -> None:
    @app.command("serve-ssh", help=t("cli.ssh.serve_help"))
    def serve_ssh(
        host: Annotated[str, typer.Option("--host", help=t("cli.ssh.opt_host"))] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", min=0, max=65535,
                                          help=t("cli.ssh.opt_port"))] = 2222,
        host_key: Annotated[Path | None, typer.Option("--host-key", metavar="PATH",
                                                      help=t("cli.ssh.opt_host_key"))] = None,
        db: DbOption = None,
    ) -> None:
        import asyncio
        import contextlib

        from crm_tui.ssh.hostkey import default_path
        from crm_tui.ssh.server import serve

        with store(db) as crm:
            path = host_key or default_path(crm.db.url)

            def ready(h: str, p: int, fingerprint: str) -> None:
                out(t("cli.ssh.listening", host=h, port=p, fingerprint=fingerprint))
                sys.stdout.flush()

            with contextlib.suppress(KeyboardInterrupt):
                asyncio.run(serve(crm, host, port, path, ready))


def _register_forced(app: typer.Typer) -> None:
    @app.command("ssh-login", help=t("cli.ssh.login_help"))
    def ssh_login(
        username: Username,
        fingerprint: Annotated[str, typer.Option("--fingerprint", metavar="SHA256:…",
                                                 help=t("cli.ssh.arg_fingerprint"))],
        db: DbOption = None,
    ) -> None:
        from crm_tui.ssh.forced import run_forced

        with store(db) as crm:
            run_forced(crm, username, fingerprint)


def register(app: typer.Typer) -> None:
    _register_keys(app)
    _register_serve(app)
    _register_forced(app)

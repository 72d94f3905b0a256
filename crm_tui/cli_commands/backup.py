"""`crm backup PATH` and `crm restore PATH`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crm_tui.cli_commands.base import CliError, DbOption, database_url, note, out, sqlite_file, store
from crm_tui.domain.admin import backup as backups
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.kernel.context import key_file_for, open_crm
from crm_tui.i18n import t
from crm_tui.settings import get_settings

BackupPath = Annotated[Path, typer.Argument(metavar="PATH", help=t("cli.backup.arg_path"))]


def _sqlite_only(db: str | None) -> str:
    """PostgreSQL has its own tools; say so before touching anything."""
    url = database_url(db)
    if sqlite_file(url) is None:
        raise backups.BackupRefused("backup.error.postgres")
    return url


def register(app: typer.Typer) -> None:
    @app.command("backup", help=t("cli.backup.help"))
    def backup(
        path: BackupPath,
        force: Annotated[bool, typer.Option("--force", help=t("cli.backup.opt_force"))] = False,
        db: DbOption = None,
    ) -> None:
        _sqlite_only(db)
        with store(db) as crm:
            info = backups.backup_database(crm, system_actor(), path, overwrite=force)
            key_file = crm.key_file
        out(t("cli.backup.done", path=str(info.path), customers=info.customers,
              events=info.audit_events))
        note(t("cli.backup.key_reminder", key_file=str(key_file or "CRM_KEY")))

    @app.command("restore", help=t("cli.restore.help"))
    def restore(
        path: BackupPath,
        yes: Annotated[bool, typer.Option("--yes", "-y", help=t("cli.restore.opt_yes"))] = False,
        db: DbOption = None,
    ) -> None:
        url = _sqlite_only(db)
        target_file = sqlite_file(url)
        new_target = target_file is not None and not target_file.exists()
        settings = get_settings()
        key_file = key_file_for(url, settings)
        if settings.key is None and not key_file.exists():
            raise CliError("cli.key.restore_needs_key" if new_target else "cli.key.restore_no_key",
                           target=str(target_file), key_file=str(key_file))
        crm = open_crm(url)
        try:
            info = backups.inspect_backup(path, crm)
            target = crm.db.sqlite_path
            if target is None:
                raise backups.BackupRefused("backup.error.postgres")
            note(t("cli.restore.about", path=str(info.path), revision=info.revision,
                   customers=info.customers, events=info.audit_events, target=str(target)))
            if not yes and not typer.confirm(t("cli.restore.confirm"), default=False):
                raise CliError("cli.restore.cancelled")
            report = backups.restore_database(crm, system_actor(), path)
        finally:
            crm.db.dispose()
        out(t("cli.restore.done", target=str(target)))
        if report.replaced_copy is not None:
            out(t("cli.restore.kept", path=str(report.replaced_copy)))
        if new_target:
            note(t("cli.key.restore_key_note", key_file=str(crm.key_file or "CRM_KEY")))
        if info.needs_upgrade:
            out(t("cli.restore.upgraded", revision=info.revision, head=info.head))

"""`crm keys status|rotate`: the field-encryption keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crm_tui.cli_commands.base import DbOption, JsonOption, group, note, out, print_json, store
from crm_tui.domain.admin import keys
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.i18n import t


def register(app: typer.Typer) -> None:
    keys_app = group(app, "keys", t("cli.keys.help"))

    @keys_app.command("status", help=t("cli.keys.status_help"))
    def status(db: DbOption = None, as_json: JsonOption = False) -> None:
        with store(db) as crm:
            st = keys.key_status(crm, system_actor())
        if as_json:
            print_json({"active": st.active, "loaded": list(st.loaded),
                        "values_by_key": st.values_by_key, "from_env": st.from_env})
            return
        out(t("cli.keys.active", key=st.active, loaded=", ".join(st.loaded)))
        for kid, n in sorted(st.values_by_key.items()):
            out(t("cli.keys.values", key=kid, count=n))
        if len(st.loaded) > 1:
            out(t("cli.keys.unfinished"))

    @keys_app.command("rotate", help=t("cli.keys.rotate_help"))
    def rotate(
        db: DbOption = None,
        batch: Annotated[int, typer.Option("--batch", min=1, max=100_000,
                                           help=t("cli.keys.opt_batch"))] = 1000,
        archive: Annotated[Path | None, typer.Option("--archive-old-keys", metavar="PATH",
                                                     help=t("cli.keys.opt_archive"))] = None,
    ) -> None:
        with store(db) as crm:
            report = keys.rotate_keys(crm, system_actor(), batch=batch, archive_old_keys=archive)
        if report.resumed:
            note(t("cli.keys.resumed"))
        out(t("cli.keys.rotated", key=report.new_key, rows=report.rows,
              retired=", ".join(report.retired_keys) or "-"))
        if archive is not None and report.retired_keys:
            out(t("cli.keys.archived", path=str(archive)))
        else:
            note(t("cli.keys.old_backups"))
        note(t("cli.keys.restart_sessions"))

"""`crm import customers FILE` and `crm export customers`: bulk data in and out."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from crm_tui.cli_commands.base import DbOption, group, note, out, store
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.kernel.errors import FieldError
from crm_tui.i18n import t

PROGRESS_FROM_ROWS = 5000


@contextmanager
def progress_bar(label: str, enabled: bool) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar on stderr when it is a terminal; a no-op otherwise."""
    if not enabled or not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    # No refresh thread (auto_refresh=False): the importer forks worker processes, and a
    # fork should not copy a thread that may hold the console's lock.
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True,
                  auto_refresh=False) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=max(total, done) or None)
            bar.refresh()

        yield update


def _print_error(error: FieldError) -> None:
    typer.echo(error.line(), err=True)


def register(app: typer.Typer) -> None:
    import_app = group(app, "import", t("cli.import.help"))
    export_app = group(app, "export", t("cli.export.help"))

    @import_app.command("customers", help=t("cli.import.customers_help"))
    def import_customers(
        file: Annotated[Path, typer.Argument(metavar="FILE", help=t("cli.import.arg_file"))],
        strict: Annotated[bool, typer.Option("--strict", help=t("cli.import.opt_strict"))] = False,
        dry_run: Annotated[bool, typer.Option("--dry-run", help=t("cli.import.opt_dry_run"))] = False,
        rejects: Annotated[Path | None, typer.Option("--rejects", metavar="PATH",
                                                     help=t("cli.import.opt_rejects"))] = None,
        branch: Annotated[str | None, typer.Option("--branch", metavar="CODE",
                                                   help=t("cli.import.opt_branch"))] = None,
        rm: Annotated[str | None, typer.Option("--rm", metavar="USERNAME",
                                               help=t("cli.import.opt_rm"))] = None,
        chunk_rows: Annotated[int | None, typer.Option("--chunk-rows", min=1, max=100_000,
                                                       help=t("cli.import.opt_chunk_rows"))] = None,
        workers: Annotated[int | None, typer.Option("--workers", min=1, max=16,
                                                    help=t("cli.import.opt_workers"))] = None,
        db: DbOption = None,
    ) -> None:
        from crm_tui.domain.data_io.importer import ImportOptions
        from crm_tui.domain.data_io.importer import import_customers as run_import

        options = ImportOptions(strict=strict, dry_run=dry_run, rejects_path=rejects,
                                default_branch=branch, default_rm=rm, chunk_rows=chunk_rows,
                                workers=workers)
        label = t("cli.import.progress_check" if dry_run else "cli.import.progress", file=file.name)
        large = file.is_file() and file.stat().st_size > PROGRESS_FROM_ROWS * 100
        with store(db) as crm, progress_bar(label, large) as progress:
            report = run_import(crm, system_actor(), file, options, on_error=_print_error,
                                on_progress=progress)
        encoding = report.encoding or "xlsx"
        if report.dry_run:
            would = report.rows - report.rejected - report.already_imported
            out(t("cli.import.dry_run_summary", rows=report.rows, would=would,
                  existing=report.already_imported, rejected=report.rejected, encoding=encoding))
        elif report.strict_refused:
            out(t("cli.import.strict_refused", rows=report.rows, rejected=report.rejected))
        else:
            rate = report.rows / report.elapsed if report.elapsed else 0
            out(t("cli.import.summary", rows=report.rows, stored=report.stored,
                  existing=report.already_imported, rejected=report.rejected, encoding=encoding,
                  seconds=f"{report.elapsed:.1f}", rate=f"{rate:,.0f}"))
        if report.rejects_path is not None:
            note(t("cli.import.rejects_written", path=str(report.rejects_path)))
        if not report.ok:
            raise typer.Exit(1)

    def export_command(name: str, entity: str, help_key: str, done_key: str) -> None:
        @export_app.command(name, help=t(help_key))
        def export(
            fmt: Annotated[str | None, typer.Option("--format", metavar="csv|xlsx",
                                                    help=t("formsdata.cli.opt_format"))] = None,
            out_path: Annotated[Path | None, typer.Option("--out", "-o", metavar="PATH",
                                                          help=t("formsdata.cli.opt_out"))] = None,
            username: Annotated[str | None, typer.Option("--as", metavar="USER",
                                                         help=t("cli.export2.opt_as"))] = None,
            db: DbOption = None,
        ) -> None:
            report = _run_export(entity, name, fmt, out_path, username, db)
            out(t(done_key, rows=report.rows, path=str(report.path)))

    export_command("customers", "customer", "cli.export.customers_help", "cli.export.done")
    for name, entity in (("leads", "lead"), ("opportunities", "opportunity"),
                         ("tickets", "ticket")):
        export_command(name, entity, f"formsdata.cli.{entity}_help",
                       f"formsdata.cli.{entity}_done")


def _run_export(entity: str, name: str, fmt: str | None, out_path: Path | None,
                username: str | None, db: str | None) -> Any:
    """One export as `--as USER` (that staff member's scope and permission; the password is
    one line on stdin) or, without it, as the operator's admin role (no personal columns).
    The format is `--format`, else the `--out` file's suffix, else CSV."""
    from datetime import datetime

    from crm_tui.cli_commands.base import read_password
    from crm_tui.domain.admin.auth import login

    suffix = out_path.suffix.lower().lstrip(".") if out_path is not None else ""
    fmt = (fmt or (suffix if suffix in ("csv", "xlsx") else "csv")).lower()
    password = read_password(True) if username else ""
    with store(db) as crm:
        actor = login(crm, username, password) if username else system_actor()
        path = out_path or Path(f"{name}-{datetime.now(crm.tz):%Y%m%d-%H%M%S}.{fmt}")
        if entity == "customer":
            from crm_tui.domain.data_io.exporter import export_customers

            return export_customers(crm, actor, path, fmt, translate=t)
        from crm_tui.domain.data_io.record_export import export_records

        return export_records(crm, actor, entity, path, fmt, translate=t)

"""Shared plumbing for `crm` subcommands: the `--db` option, opening the store, output helpers.

A command module exposes `register(app)`; it adds its commands to the root app or to a
group obtained with `group(app, name, help)`, so two modules can share a group (`import`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from crm_tui.domain.kernel.context import Crm, open_crm
from crm_tui.domain.kernel.errors import DomainError
from crm_tui.i18n import t
from crm_tui.settings import get_settings
from crm_tui.store.db import resolve_url

DbOption = Annotated[
    str | None,
    typer.Option("--db", metavar="PATH|URL", help=t("cli.opt.db"), show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help=t("cli.opt.json"))]


class CliError(DomainError):
    """Something the operator typed or chose does not work; the key says what."""

    key = "cli.error.generic"


def group(app: typer.Typer, name: str, help: str) -> typer.Typer:
    """The sub-app `name` of `app`, created on first use, so several modules can extend it."""
    for info in app.registered_groups:
        if info.name == name and info.typer_instance is not None:
            return info.typer_instance
    sub = typer.Typer(help=help, no_args_is_help=True, add_completion=False)
    app.add_typer(sub, name=name)
    return sub


def database_url(db: str | None) -> str:
    return resolve_url(db or get_settings().database_url)


def sqlite_file(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


@contextmanager
def store(db: str | None, *, check_schema: bool = True) -> Iterator[Crm]:
    """Open an existing, initialised store; refuse clearly instead of creating an empty file."""
    url = database_url(db)
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise CliError("cli.error.no_database", path=str(path))
    crm = open_crm(url)
    warn_legacy_key(crm)
    try:
        if check_schema:
            require_current_schema(crm)
        yield crm
    finally:
        crm.db.dispose()


def warn_legacy_key(crm: Crm) -> None:
    """One line when the key still sits beside the data, where a folder copy takes both."""
    from crm_tui.domain.kernel.context import default_key_file, key_file_is_legacy

    if key_file_is_legacy(crm.db.url, crm.settings, crm.key_file):
        note(t("cli.key.legacy_location", key_file=str(crm.key_file),
               target=str(default_key_file(crm.db.url))))


def require_current_schema(crm: Crm) -> None:
    from crm_tui.store.migrate import current_revision, head_revision

    rev = current_revision(crm.db.read_engine)
    if rev is None:
        raise CliError("cli.error.not_initialised", db=display_url(crm.db.url))
    if rev != head_revision():
        raise CliError("cli.error.needs_upgrade", revision=rev, head=head_revision() or "")


def display_url(url: str) -> str:
    """A SQLite path as a path; a server URL without its password."""
    path = sqlite_file(url)
    if path is not None:
        return str(path)
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def out(text: str = "") -> None:
    typer.echo(text)


def note(text: str) -> None:
    """Progress and summaries that are not the command's output go to stderr."""
    typer.echo(text, err=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=_json_default))


def local_time(value: datetime | None, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain table that keeps CJK columns aligned (Rich measures cell width)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(*headers, box=None, pad_edge=False, header_style="bold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    Console(file=sys.stdout, width=max(120, len(headers) * 16), highlight=False).print(table)


def read_password(from_stdin: bool, *, confirm: bool = True) -> str:
    """One line from stdin (`--password-stdin`), else a hidden prompt asked twice."""
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise CliError("cli.error.password_stdin_empty")
        return password
    prompt = t("cli.password.prompt")
    if confirm:
        return typer.prompt(prompt, hide_input=True, confirmation_prompt=t("cli.password.repeat"))
    return typer.prompt(prompt, hide_input=True)


def parse_now(value: str | None, tz: ZoneInfo) -> datetime:
    """`--now ISO-TIME` for jobs: with an offset as given, without one in the display zone."""
    from datetime import UTC

    if value is None:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(t("jobs.cli.bad_now", value=value)) from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=tz)
    if not 1900 <= at.year <= 2100:
        raise typer.BadParameter(t("jobs.cli.bad_now", value=value))
    return at.astimezone(UTC)

"""The `crm` command. With no arguments it starts the TUI; admin work is subcommands.

Each command group lives in its own module under `crm_tui/cli_commands/` and exposes
`register(app)`; to add a group, add its module name to COMMAND_MODULES. Every failure
becomes one translated line on stderr and a non-zero exit (see `cli_commands.errors`).
"""

import sys
from collections.abc import Sequence
from importlib import import_module
from typing import TYPE_CHECKING, Annotated, Any

if TYPE_CHECKING:
    import typer

COMMAND_MODULES = (
    "setup",  # init, db upgrade/status, demo
    "users",  # users, branches, teams
    "audit",
    "policy",
    "keys",
    "data",  # import customers, export customers
    "backup",  # backup, restore
    "compliance",  # alerts list/clear, import events, jobs run
    "ssh",  # serve-ssh; users add-key / remove-key / keys
    "products",  # products import/list/retire, import prices/rates
    "privacy",  # privacy requests/copy/retention (and `audit access` lives in audit)
    "sales",  # leads list, opportunities list, import leads
    "service",  # tickets list/import, import tickets, outbox list, tasks list
    "fields",  # custom fields (form engine)
    "reporting",  # kpi, targets set
    "reports",  # report list/run/import/export/delete/fields (the report engine)
    "warnings",  # warnings churn / cross-sell (early warnings)
)


def _missing_sqlite_file(db: str | None) -> str | None:
    """The SQLite file the TUI would open, if it does not exist (checked without SQLAlchemy,
    which the login screen must not wait for)."""
    from pathlib import Path

    from crm_tui.settings import early

    target = db or early("database_url")
    if target and "://" in target:
        if not target.startswith("sqlite:///"):
            return None
        target = target.removeprefix("sqlite:///")
    if not target:
        from platformdirs import user_data_dir

        target = str(Path(user_data_dir("crm-tui", appauthor=False)) / "crm.db")
    path = Path(target).expanduser()
    return None if path.exists() else str(path)


def start_tui(db: str | None) -> None:
    missing = _missing_sqlite_file(db)
    if missing:
        from crm_tui.domain.kernel.errors import DomainError

        raise DomainError("cli.error.no_database", path=missing)
    from crm_tui.app import run

    run(db=db, username=None)


def _tui_only(args: Sequence[str]) -> str | None | bool:
    """The `--db` value when the arguments only ask for the TUI, else False."""
    if not args:
        return None
    if len(args) == 2 and args[0] == "--db":
        return args[1]
    if len(args) == 1 and args[0].startswith("--db="):
        return args[0].removeprefix("--db=")
    return False


def build_app() -> "typer.Typer":
    import typer
    from typer.core import TyperGroup

    from crm_tui.cli_commands.base import DbOption
    from crm_tui.cli_commands.errors import report
    from crm_tui.i18n import t

    class CrmGroup(TyperGroup):
        """Runs every command under one error handler: a line on stderr, never a traceback."""

        def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
                 complete_var: str | None = None, standalone_mode: bool = True,
                 **extra: Any) -> Any:
            try:
                from crm_tui.i18n import prefer_language
                from crm_tui.settings import get_settings

                prefer_language(get_settings().lang)
                rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
                code = rv if isinstance(rv, int) else 0
            except BaseException as exc:  # noqa: BLE001 - this IS the one handler
                if isinstance(exc, SystemExit):
                    raise
                code = report(exc, as_json="--json" in (args or sys.argv[1:]))
            if standalone_mode:
                sys.exit(code)
            return code

    app = typer.Typer(
        cls=CrmGroup,
        name="crm",
        help=t("cli.app.help"),
        epilog=t("cli.app.epilog"),
        add_completion=False,
        pretty_exceptions_enable=False,
        invoke_without_command=True,
    )

    @app.callback()
    def root(ctx: typer.Context, db: DbOption = None,
             verbose: Annotated[int, typer.Option("--verbose", "-v", count=True,
                                                  help=t("cli.opt.verbose"))] = 0) -> None:
        from crm_tui.cli_commands.base import GLOBAL_DB
        from crm_tui.logs import log, setup_logging

        setup_logging(verbose=verbose)
        GLOBAL_DB.clear()
        if db:
            GLOBAL_DB.append(db)
        if ctx.invoked_subcommand is None:
            start_tui(db)
        else:
            log.info("crm %s", ctx.invoked_subcommand)

    from crm_tui.cli_commands.click_i18n import install

    install()
    for name in COMMAND_MODULES:
        import_module(f"crm_tui.cli_commands.{name}").register(app)
    return app


def run_cli(args: Sequence[str] | None = None) -> int:
    from typer.main import get_command

    command = get_command(build_app())
    return command.main(list(sys.argv[1:] if args is None else args), prog_name="crm",
                        standalone_mode=False)


def main() -> None:
    args = sys.argv[1:]
    db = _tui_only(args)
    if db is not False:
        # Fast path: the TUI starts without importing Typer and every command module.
        from crm_tui.cli_commands.errors import report

        try:
            from crm_tui.logs import setup_logging

            setup_logging()
            start_tui(db if isinstance(db, str) else None)
        except BaseException as exc:  # noqa: BLE001
            if isinstance(exc, SystemExit):
                raise
            sys.exit(report(exc))
        return
    sys.exit(run_cli(args))


if __name__ == "__main__":
    main()

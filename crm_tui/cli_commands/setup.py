"""`crm init`, `crm db upgrade|status` and `crm demo`: bringing a database to life."""

from __future__ import annotations

from typing import Annotated

import typer

from crm_tui.cli_commands.base import (
    CliError,
    DbOption,
    database_url,
    display_url,
    group,
    note,
    out,
    print_table,
    read_password,
    sqlite_file,
)
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.kernel.context import Crm, key_file_for, open_crm
from crm_tui.i18n import t
from crm_tui.settings import get_settings

ADMIN_USERNAME = "admin"


def _existing_revision(url: str) -> str | None:
    """The schema revision of the database at `url`, or None if there is none yet."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        return None
    from sqlalchemy import create_engine

    from crm_tui.store.migrate import current_revision

    engine = create_engine(url)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def open_for_setup(db: str | None) -> tuple[Crm, bool]:
    """Open (creating the key file if needed) a store for init/demo; True if it is new.

    A database that already holds data but whose key file is missing is refused: a new key
    would make every encrypted value in it unreadable.
    """
    url = database_url(db)
    settings = get_settings()
    key_file = key_file_for(url, settings)
    has_key = settings.key is not None or key_file.exists()
    revision = _existing_revision(url)
    if revision is not None and not has_key:
        raise CliError("cli.init.key_missing", key_file=str(key_file), db=display_url(url))
    crm = open_crm(url, create_key=True)
    if not has_key:
        note(t("cli.init.key_created", key_file=str(key_file)))
    return crm, revision is None


def initialise(crm: Crm) -> bool:
    from crm_tui.domain.admin.setup import init_database

    return init_database(crm, system_actor())


def register(app: typer.Typer) -> None:
    @app.command("init", help=t("cli.init.help"))
    def init(
        db: DbOption = None,
        admin_password_stdin: Annotated[
            bool, typer.Option("--admin-password-stdin", help=t("cli.init.opt_password_stdin"))
        ] = False,
    ) -> None:
        from crm_tui.domain.admin import staff
        from crm_tui.domain.admin.auth import check_password_strength
        from crm_tui.domain.admin.setup import has_staff

        password: str | None = None
        if _existing_revision(database_url(db)) is None:
            # A fresh install: a bad password must not leave a key and an empty database behind.
            password = read_password(admin_password_stdin)
            check_password_strength(password)
        crm, _ = open_for_setup(db)
        try:
            initialise(crm)
            if has_staff(crm):
                out(t("cli.init.already", db=display_url(crm.db.url)))
                return
            if password is None:
                password = read_password(admin_password_stdin)
            staff.add_user(crm, system_actor(), ADMIN_USERNAME, t("cli.init.admin_name"),
                           "admin", password)
            out(t("cli.init.done", db=display_url(crm.db.url), username=ADMIN_USERNAME))
        finally:
            crm.db.dispose()

    db_app = group(app, "db", t("cli.db.help"))

    @db_app.command("upgrade", help=t("cli.db.upgrade_help"))
    def db_upgrade(db: DbOption = None) -> None:
        from crm_tui.cli_commands.base import store
        from crm_tui.store.migrate import current_revision, head_revision, upgrade

        with store(db, check_schema=False) as crm:
            before = current_revision(crm.db.read_engine)
            head = head_revision()
            from crm_tui.domain.admin.setup import bring_trust_forward

            if before == head:
                out(t("cli.db.up_to_date", revision=head or ""))
            else:
                upgrade(crm.db.write_engine)
                after = current_revision(crm.db.read_engine)
                out(t("cli.db.upgraded", before=before or t("cli.db.empty"), after=after or ""))
            # older events re-keyed, rows sealed (also for a file upgraded by an older build)
            events, rows = bring_trust_forward(crm)
            if events or rows:
                note(t("cli.audit2.upgrade_rekeyed", events=events, rows=rows))

    @db_app.command("status", help=t("cli.db.status_help"))
    def db_status(db: DbOption = None) -> None:
        from crm_tui.cli_commands.base import store
        from crm_tui.store.migrate import current_revision, head_revision

        with store(db, check_schema=False) as crm:
            current = current_revision(crm.db.read_engine)
            head = head_revision()
            out(t("cli.db.status", db=display_url(crm.db.url),
                  revision=current or t("cli.db.empty"), head=head or ""))
            if current != head:
                raise typer.Exit(1)

    @app.command("demo", help=t("cli.demo.help"))
    def demo(
        db: DbOption = None,
        password: Annotated[
            str, typer.Option("--password", help=t("cli.demo.opt_password"))
        ] = "demo1234",
        customers: Annotated[
            int, typer.Option("--customers", min=0, max=1_000_000, help=t("cli.demo.opt_customers"))
        ] = 3000,
        no_tui: Annotated[bool, typer.Option("--no-tui", help=t("cli.demo.opt_no_tui"))] = False,
    ) -> None:
        from crm_tui.domain.admin.auth import check_password_strength
        from crm_tui.domain.admin.setup import has_staff

        check_password_strength(password)
        crm, _ = open_for_setup(db)
        url = crm.db.url
        try:
            initialise(crm)
            if has_staff(crm):
                from crm_tui.domain.admin.staff import list_users

                out(t("cli.demo.already", db=display_url(url)))
                out(t("cli.demo.logins", db=display_url(url)))
                print_table([t("field.username"), t("field.role"), t("cli.demo.col_name"),
                             t("field.password")],
                            [(u.username, t(f"role.{u.role}"), u.display_name,
                              t("cli.demo.password_as_before"))
                             for u in list_users(crm, system_actor("demo"))
                             if u.active and u.role != "admin"])
            else:
                from crm_tui.demo.seed import seed_demo

                note(t("cli.demo.seeding", customers=customers))
                logins = seed_demo(crm, system_actor("demo"), customers=customers,
                                   password=password)
                out(t("cli.demo.logins", db=display_url(url)))
                print_table([t("field.username"), t("field.role"), t("cli.demo.col_name"),
                             t("field.password")],
                            [(u, t(f"role.{r}"), name, password) for u, r, name in logins])
        finally:
            crm.db.dispose()
        if not no_tui:
            from crm_tui.cli import start_tui

            start_tui(url)

"""`crm users …`, `crm branches …`, `crm teams …`: staff accounts and the bank's structure."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from crm_tui.cli_commands.base import (
    DbOption,
    JsonOption,
    group,
    local_time,
    out,
    print_json,
    print_table,
    read_password,
    store,
)
from crm_tui.domain.admin import org, staff
from crm_tui.domain.compliance import staff_grants
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.kernel.errors import FieldError, NotFound, ValidationFailed
from crm_tui.domain.kernel.permissions import ROLES
from crm_tui.i18n import t

Username = Annotated[str, typer.Argument(metavar="USERNAME", help=t("cli.users.arg_username"))]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help=t("cli.users.opt_password_stdin"))
]


def _register_users(app: typer.Typer) -> None:
    users = group(app, "users", t("cli.users.help"))

    @users.command("add", help=t("cli.users.add_help"))
    def add(
        username: Username,
        name: Annotated[str, typer.Option("--name", help=t("cli.users.opt_name"))],
        role: Annotated[str, typer.Option("--role", help=t("cli.users.opt_role",
                                                            roles=", ".join(ROLES)))],
        branch: Annotated[str | None, typer.Option("--branch", metavar="CODE",
                                                   help=t("cli.users.opt_branch"))] = None,
        team: Annotated[str | None, typer.Option("--team", metavar="NAME",
                                                 help=t("cli.users.opt_team"))] = None,
        password_stdin: PasswordStdin = False,
        db: DbOption = None,
    ) -> None:
        if role not in ROLES:  # say so before asking for a password; the domain checks again
            raise ValidationFailed([FieldError("role", "validation.role",
                                               {"value": role, "roles": ", ".join(ROLES)})])
        with store(db) as crm:
            password = read_password(password_stdin)
            _, request = staff_grants.add_user(crm, system_actor(), username, name, role,
                                               password, branch, team)
            out(t("cli.users.added", username=username, role=t(f"role.{role}")))
            if request is not None:
                out(t("cli.users2.requested", id=request))

    @users.command("list", help=t("cli.users.list_help"))
    def list_(db: DbOption = None, as_json: JsonOption = False) -> None:
        with store(db) as crm:
            rows = staff.list_users(crm, system_actor())
            if as_json:
                print_json([asdict(r) for r in rows])
                return
            print_table(
                [t("field.username"), t("cli.users.col_name"), t("field.role"), t("field.branch"),
                 t("field.team"), t("cli.users.col_status"), t("cli.users.col_last_login")],
                [(r.username, r.display_name, t(f"role.{r.role}"), r.branch, r.team,
                  _status(r), local_time(r.last_login_at, crm.tz)) for r in rows],
            )

    @users.command("disable", help=t("cli.users.disable_help"))
    def disable(username: Username, db: DbOption = None) -> None:
        with store(db) as crm:
            staff.disable_user(crm, system_actor(), username)
            out(t("cli.users.disabled", username=username))

    @users.command("passwd", help=t("cli.users.passwd_help"))
    def passwd(username: Username, password_stdin: PasswordStdin = False,
               db: DbOption = None) -> None:
        with store(db) as crm:
            if username not in {u.username for u in staff.list_users(crm, system_actor())}:
                raise NotFound("error.user_not_found", username=username)  # before prompting
            password = read_password(password_stdin)
            request = staff_grants.set_password(crm, system_actor(), username, password)
            if request is not None:
                out(t("cli.users2.requested", id=request))
                return
            out(t("cli.users.password_set", username=username))

    @users.command("set-role", help=t("cli.users.set_role_help"))
    def set_role(
        username: Username,
        role: Annotated[str, typer.Argument(metavar="ROLE",
                                            help=t("cli.users.opt_role", roles=", ".join(ROLES)))],
        db: DbOption = None,
    ) -> None:
        with store(db) as crm:
            request = staff_grants.set_role(crm, system_actor(), username, role)
            if request is not None:
                out(t("cli.users2.requested", id=request))
                return
            out(t("cli.users.role_set", username=username, role=t(f"role.{role}")))


def _status(row: staff.StaffView) -> str:
    from crm_tui.store.types import utcnow

    if not row.active:
        return t("cli.users.status_disabled")
    if row.locked_until and row.locked_until > utcnow():
        return t("cli.users.status_locked")
    return t("cli.users.status_active")


def _register_org(app: typer.Typer) -> None:
    branches = group(app, "branches", t("cli.branches.help"))

    @branches.command("add", help=t("cli.branches.add_help"))
    def branch_add(
        code: Annotated[str, typer.Argument(metavar="CODE", help=t("cli.branches.arg_code"))],
        name: Annotated[str, typer.Argument(metavar="NAME", help=t("cli.branches.arg_name"))],
        region: Annotated[str, typer.Option("--region", help=t("cli.branches.opt_region"))] = "",
        db: DbOption = None,
    ) -> None:
        with store(db) as crm:
            org.add_branch(crm, system_actor(), code, name, region)
            out(t("cli.branches.added", code=code.upper(), name=name))

    @branches.command("list", help=t("cli.branches.list_help"))
    def branch_list(db: DbOption = None, as_json: JsonOption = False) -> None:
        with store(db) as crm:
            rows = org.list_branches(crm, system_actor())
        if as_json:
            print_json([asdict(r) for r in rows])
            return
        print_table([t("cli.branches.col_code"), t("cli.branches.col_name"),
                     t("cli.branches.col_region"), t("cli.branches.col_teams"),
                     t("cli.branches.col_staff")],
                    [(r.code, r.name, r.region, r.teams, r.staff) for r in rows])

    teams = group(app, "teams", t("cli.teams.help"))

    @teams.command("add", help=t("cli.teams.add_help"))
    def team_add(
        name: Annotated[str, typer.Argument(metavar="NAME", help=t("cli.teams.arg_name"))],
        branch: Annotated[str, typer.Option("--branch", metavar="CODE",
                                            help=t("cli.teams.opt_branch"))],
        db: DbOption = None,
    ) -> None:
        with store(db) as crm:
            org.add_team(crm, system_actor(), name, branch)
            out(t("cli.teams.added", name=name, code=branch.upper()))

    @teams.command("list", help=t("cli.teams.list_help"))
    def team_list(
        branch: Annotated[str | None, typer.Option("--branch", metavar="CODE",
                                                   help=t("cli.teams.opt_branch_filter"))] = None,
        db: DbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        with store(db) as crm:
            rows = org.list_teams(crm, system_actor(), branch)
        if as_json:
            print_json([asdict(r) for r in rows])
            return
        print_table([t("cli.teams.col_name"), t("cli.branches.col_code"), t("cli.branches.col_staff")],
                    [(r.name, r.branch_code, r.staff) for r in rows])


def register(app: typer.Typer) -> None:
    _register_users(app)
    _register_org(app)

"""`crm policy show|validate|apply`: the process-engine policy file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crm_tui.cli_commands.base import DbOption, group, out, store
from crm_tui.domain.compliance import policy_changes as policy_admin
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.i18n import t

PolicyFile = Annotated[Path, typer.Argument(metavar="FILE", help=t("cli.policy.arg_file"))]


def register(app: typer.Typer) -> None:
    policy_app = group(app, "policy", t("cli.policy.help"))

    @policy_app.command("show", help=t("cli.policy.show_help"))
    def show(db: DbOption = None,
             default: Annotated[bool, typer.Option("--default",
                                                   help=t("cli.policy.default_help"))] = False,
             ) -> None:
        if default:  # the shipped policy: no database needed
            from crm_tui.domain.policy.document import default_policy_text

            typer.echo(default_policy_text(), nl=False)
            return
        with store(db) as crm:
            typer.echo(policy_admin.show_policy(crm), nl=False)

    @policy_app.command("validate", help=t("cli.policy.validate_help"))
    def validate(file: PolicyFile) -> None:
        policy = policy_admin.validate_policy_file(file)
        out(t("cli.policy.valid", file=str(file), rules=len(policy.tag_rules)))

    @policy_app.command("apply", help=t("compliance.cli.policy_apply_help"))
    def apply(file: PolicyFile, db: DbOption = None) -> None:
        # A new policy takes effect only when a compliance officer approves the request.
        with store(db) as crm:
            request_id = policy_admin.propose_policy_file(crm, system_actor(), file)
        out(t("compliance.cli.policy_requested", id=request_id, file=str(file)))

"""`crm policy show|validate|apply`: the process-engine policy file."""

from __future__ import annotations

from pathlib import Path
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
    store,
)
from crm_tui.domain.compliance import policy_changes as policy_admin
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.policy.document import load_policy_file
from crm_tui.i18n import t
from crm_tui.i18n.words import say

PolicyFile = Annotated[Path, typer.Argument(metavar="FILE", help=t("cli.policy.arg_file"))]


def register(app: typer.Typer) -> None:
    policy_app = group(app, "policy", t("cli.policy.help"))

    @policy_app.command("show", help=t("cli.policy.show_help"))
    def show(
        version: Annotated[int | None, typer.Option("--version", min=1,
                                                    help=t("policy.cli.opt_version"))] = None,
        db: DbOption = None,
    ) -> None:
        with store(db) as crm:
            if version is None:
                typer.echo(policy_admin.show_policy(crm), nl=False)
            else:
                from crm_tui.domain.compliance.policy_review import policy_version_text

                typer.echo(policy_version_text(crm, system_actor(), version), nl=False)

    @policy_app.command("diff", help=t("policy.cli.diff_help"))
    def diff(file: PolicyFile, json_out: JsonOption = False, db: DbOption = None) -> None:
        from crm_tui.domain.compliance.policy_review import changes_between

        text, _ = load_policy_file(file)
        with store(db) as crm:
            changes = changes_between(policy_admin.show_policy(crm), text)
        if json_out:
            print_json([{"key": c.key, "params": c.params, "path": c.path,
                         "text": say(c.key, c.params)} for c in changes])
            return
        for c in changes:
            out(say(c.key, c.params))
        if not changes:
            out(t("policy.diff.none"))

    @policy_app.command("history", help=t("policy.cli.history_help"))
    def history(json_out: JsonOption = False, db: DbOption = None) -> None:
        from crm_tui.domain.compliance.policy_review import policy_history

        with store(db) as crm:
            rows = policy_history(crm, system_actor())
            tz = crm.tz
        if json_out:
            print_json([{"version": v.id, "applied_at": v.applied_at, "applied_by": v.applied_by,
                         "active": v.active, "proposed_by": v.proposed_by,
                         "approved_by": list(v.approved_by), "request_id": v.request_id}
                        for v in rows])
            return
        print_table([t(f"policy.history.col_{c}") for c in ("version", "applied", "proposed",
                                                              "approved", "active")],
                    [[str(v.id), local_time(v.applied_at, tz), v.proposed_by,
                      ", ".join(v.approved_by), t("policy.history.active") if v.active else ""]
                     for v in rows])

    @policy_app.command("validate", help=t("cli.policy.validate_help"))
    def validate(file: PolicyFile) -> None:
        policy = policy_admin.validate_policy_file(file)
        out(t("cli.policy.valid", file=str(file), rules=len(policy.tag_rules)))

    @policy_app.command("apply", help=t("compliance.cli.policy_apply_help"))
    def apply(
        file: PolicyFile,
        dry_run: Annotated[bool, typer.Option("--dry-run", help=t("policy.cli.opt_dry_run"))] = False,
        json_out: JsonOption = False,
        db: DbOption = None,
    ) -> None:
        # A new policy takes effect only when a compliance officer approves the request.
        if dry_run:
            from crm_tui.domain.compliance.policy_review import policy_impact

            text, _ = load_policy_file(file)
            with store(db) as crm:
                impact = policy_impact(crm, system_actor(), text)
            if json_out:
                print_json({"changes": [{"key": c.key, "params": c.params, "path": c.path,
                                         "text": say(c.key, c.params)} for c in impact.changes],
                            "retagged_customers": impact.retagged_customers,
                            "rerouted_requests": impact.rerouted_requests,
                            "rule_changes": [say(c.key, c.params) for c in impact.rule_changes]})
                return
            for c in impact.changes:
                out(say(c.key, c.params))
            if not impact.changes:
                out(t("policy.diff.none"))
            out(t("policy.impact.title"))
            out("  " + t("policy.impact.retagged", n=impact.retagged_customers))
            out("  " + t("policy.impact.rerouted", n=impact.rerouted_requests))
            out("  " + t("policy.impact.rules", n=len(impact.rule_changes)))
            for c in impact.rule_changes:
                out("    " + say(c.key, c.params))
            out(t("policy.impact.dry_run"))
            return
        with store(db) as crm:
            request_id = policy_admin.propose_policy_file(crm, system_actor(), file)
        out(t("compliance.cli.policy_requested", id=request_id, file=str(file)))

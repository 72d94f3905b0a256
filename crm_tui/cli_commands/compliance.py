"""`crm alerts list|clear`, `crm import events`, `crm jobs run`: compliance from the shell.

The CLI normally acts as the system administrator. Clearing an alert is a risk officer's
decision, so `crm alerts clear` acts as the named staff member only after her password
checks out (through the same login as the TUI: audited, counted toward lockout). Letting
the admin name any user without a password would let one person clear a freeze in
another's name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crm_tui.cli_commands.base import (
    DbOption,
    JsonOption,
    group,
    local_time,
    note,
    out,
    parse_now,
    print_json,
    print_table,
    read_password,
    store,
)
from crm_tui.domain.admin.auth import login
from crm_tui.domain.compliance import alerts
from crm_tui.domain.compliance.event_feed import import_events
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.i18n import render, t

FeedFile = Annotated[Path, typer.Argument(metavar="FILE", help=t("compliance.cli.arg_feed"))]


def register(app: typer.Typer) -> None:
    alerts_app = group(app, "alerts", t("compliance.cli.alerts_help"))
    import_app = group(app, "import", t("cli.import.help"))
    jobs_app = group(app, "jobs", t("compliance.cli.jobs_help"))

    @alerts_app.command("list", help=t("compliance.cli.alerts_list_help"))
    def alerts_list(
        status: Annotated[str, typer.Option("--status", help=t("compliance.cli.opt_status"))]
        = "open",
        json_out: JsonOption = False,
        db: DbOption = None,
    ) -> None:
        if status not in ("open", "cleared", "all"):
            raise typer.BadParameter(t("compliance.cli.bad_status", value=status))
        with store(db) as crm:
            rows = alerts.list_alerts(crm, system_actor(), status=None if status == "all"
                                      else status, limit=1000)
            tz = crm.tz
        if json_out:
            print_json([{
                "id": a.id, "rule": a.rule, "kind": a.kind, "severity": a.severity,
                "freeze": a.freeze, "status": a.status, "customer_id": a.customer_id,
                "details": render(a.details), "details_key": a.details.key,
                "details_params": a.details.as_json()["params"], "raised_at": a.raised_at,
                "cleared_by": a.cleared_by,
                "cleared_at": a.cleared_at, "clear_reason": a.clear_reason,
            } for a in rows])
            return
        if not rows:
            note(t("compliance.cli.no_alerts"))
            return
        print_table(
            [t("compliance.cli.col_id"), t("compliance.cli.col_raised"),
             t("compliance.cli.col_severity"), t("compliance.cli.col_customer"),
             t("compliance.cli.col_rule"), t("compliance.cli.col_details"),
             t("compliance.cli.col_freeze"), t("compliance.cli.col_status")],
            [(a.id, local_time(a.raised_at, tz), t(f"compliance.severity.{a.severity}"),
              a.customer_id, render(a.kind_label), render(a.details),
              t("compliance.cli.yes") if a.freeze else "",
              t(f"compliance.alert_status.{a.status}")) for a in rows],
        )

    @alerts_app.command("clear", help=t("compliance.cli.alerts_clear_help"))
    def alerts_clear(
        alert_id: Annotated[int, typer.Argument(metavar="ID")],
        reason: Annotated[str, typer.Option("--reason", help=t("compliance.cli.opt_reason"))],
        username: Annotated[str, typer.Option("--as", metavar="USER",
                                              help=t("compliance.cli.opt_as"))],
        password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                     help=t("compliance.cli.opt_pw_stdin"))]
        = False,
        db: DbOption = None,
    ) -> None:
        password = read_password(password_stdin, confirm=False)
        with store(db) as crm:
            actor = login(crm, username, password)
            alerts.clear_alert(crm, actor, alert_id, reason)
        out(t("compliance.cli.cleared", id=alert_id, user=username))

    @import_app.command("events", help=t("compliance.cli.import_events_help"))
    def import_events_cmd(file: FeedFile, db: DbOption = None) -> None:
        with store(db) as crm:
            report = import_events(crm, system_actor(), file)
        for err in report.errors:
            note(render(err.note))
        out(t("compliance.cli.feed_summary", lines=report.lines, stored=report.stored,
              duplicates=report.duplicates, alerts=len(report.alerts), bad=len(report.errors)))
        if report.errors:
            raise typer.Exit(1)

    @jobs_app.command("run", help=t("compliance.cli.jobs_run_help"))
    def jobs_run(
        now: Annotated[str | None, typer.Option("--now", help=t("jobs.cli.opt_now"))] = None,
        json_out: JsonOption = False,
        db: DbOption = None,
    ) -> None:
        from crm_tui.domain.workflow.jobs import run_all

        with store(db) as crm:
            at = parse_now(now, crm.tz)
            counts = run_all(crm, at)
        if json_out:
            print_json({"now": at, **counts})
            return
        for key, value in counts.items():
            label = f"jobs.count.{key}"
            text = t(label, n=value)
            out(text if text != label else f"{key}: {value}")

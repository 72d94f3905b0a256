"""`crm privacy requests|copy|retention`: personal-information rights from the shell.

Listing requests and running retention act as the system administrator (who sees requests
without customer names). Making a copy file shows a customer's full data, so it acts as the
named compliance officer only after her password checks out, as `crm alerts clear` does.
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
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.i18n import t


def register(app: typer.Typer) -> None:
    privacy_app = group(app, "privacy", t("privacy.cli.help"))

    @privacy_app.command("requests", help=t("privacy.cli.requests_help"))
    def requests_cmd(
        state: Annotated[str | None, typer.Option("--state", metavar="S",
                                                  help=t("privacy.cli.opt_state"))] = None,
        json_out: JsonOption = False,
        db: DbOption = None,
    ) -> None:
        from crm_tui.domain.privacy import requests

        if state is not None and state not in requests.STATES:
            raise typer.BadParameter(t("privacy.cli.bad_state", value=state,
                                       states=", ".join(requests.STATES)))
        with store(db) as crm:
            rows = []
            before: int | None = None
            while True:  # keyset pages, newest first
                page = requests.list_requests(crm, system_actor(), state=state,
                                              before_id=before, limit=500)
                rows.extend(page)
                if len(page) < 500:
                    break
                before = page[-1].id
            tz = crm.tz
        if json_out:
            print_json([{
                "id": r.id, "customer_id": r.customer_id, "kind": r.kind, "state": r.state,
                "detail": r.detail, "purposes": list(r.purposes), "channel": r.channel,
                "opened_by": r.opened_by, "owner": r.owner, "opened_at": r.opened_at,
                "due_at": r.due_at, "closed_at": r.closed_at, "outcome": r.outcome,
                "refusal_reason": r.refusal_reason, "overdue": r.overdue,
                "restricted": r.restricted,
            } for r in rows])
            return
        if not rows:
            note(t("privacy.cli.no_requests"))
            return
        print_table(
            [t("privacy.cli.col_id"), t("privacy.cli.col_customer"), t("field.privacy_kind"),
             t("field.privacy_state"), t("privacy.cli.col_opened"), t("privacy.cli.col_due"),
             t("privacy.cli.col_owner"), t("field.privacy_outcome")],
            [(r.id, r.customer_id, t(f"privacy.kind.{r.kind}"),
              t(f"privacy.state.{r.state}") + (f" ({t('privacy.cli.overdue')})"
                                               if r.overdue else ""),
              local_time(r.opened_at, tz), local_time(r.due_at, tz), r.owner,
              r.refusal_reason or r.outcome) for r in rows])

    @privacy_app.command("copy", help=t("privacy.cli.copy_help"))
    def copy_cmd(
        customer_id: Annotated[int, typer.Argument(metavar="CUSTOMER_ID")],
        out_path: Annotated[Path, typer.Option("--out", metavar="PATH",
                                               help=t("privacy.cli.opt_out"))],
        username: Annotated[str, typer.Option("--as", metavar="USER",
                                              help=t("privacy.cli.opt_as"))],
        fmt: Annotated[str, typer.Option("--format", help=t("privacy.cli.opt_format"))] = "xlsx",
        request_id: Annotated[int | None, typer.Option("--request", metavar="ID",
                                                       help=t("privacy.cli.opt_request"))] = None,
        lang: Annotated[str, typer.Option("--lang", help=t("privacy.cli.opt_lang"))] = "zh_CN",
        password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                     help=t("privacy.cli.opt_pw_stdin"))] = False,
        db: DbOption = None,
    ) -> None:
        from crm_tui.domain.privacy.copy_file import make_copy

        password = read_password(password_stdin, confirm=False)
        with store(db) as crm:
            actor = login(crm, username, password)
            report = make_copy(crm, actor, customer_id, out_path, fmt, request_id=request_id,
                               lang=lang)
        out(t("privacy.cli.copied", path=str(report.path),
              rows=sum(report.counts.values()), sections=len(report.counts)))

    @privacy_app.command("retention", help=t("privacy.cli.retention_help"))
    def retention_cmd(
        dry_run: Annotated[bool, typer.Option("--dry-run", help=t("privacy.cli.opt_dry_run"))]
        = False,
        now: Annotated[str | None, typer.Option("--now", help=t("jobs.cli.opt_now"))] = None,
        json_out: JsonOption = False,
        db: DbOption = None,
    ) -> None:
        from crm_tui.domain.privacy import retention

        with store(db) as crm:
            at = parse_now(now, crm.tz)
            actor = system_actor("jobs")
            if dry_run:
                items = retention.due_items(crm, actor, at)
                if json_out:
                    print_json([{"customer_id": i.customer_id, "category": i.category,
                                 "since": i.since, "due_at": i.due_at} for i in items])
                    return
                if not items:
                    note(t("privacy.cli.nothing_due"))
                    return
                print_table([t("privacy.cli.col_customer"), t("privacy.cli.col_category"),
                             t("privacy.cli.col_since"), t("privacy.cli.col_due")],
                            [(i.customer_id, t(f"privacy.category.{i.category}"),
                              local_time(i.since, crm.tz), local_time(i.due_at, crm.tz))
                             for i in items])
                note(t("privacy.cli.dry_run_total", n=len(items)))
                return
            retention.sync_batches(crm, at)
            batch, n = retention.open_batch(crm, at, actor)
        if json_out:
            print_json({"batch": batch, "items": n})
        elif batch is None:
            out(t("privacy.cli.no_batch"))
        else:
            out(t("privacy.cli.batch_opened", id=batch, n=n))


def print_access(db: str | None, customer: int | None, staff: str | None, since: str | None,
                 as_json: bool) -> None:
    """`crm audit access`: the access log for one customer or one staff member."""
    from crm_tui.domain.kernel.access_log import access_entries

    if (customer is None) == (staff is None):
        raise typer.BadParameter(t("privacy.cli.customer_or_staff"))
    with store(db) as crm:
        at = parse_now(since, crm.tz) if since else None
        rows = access_entries(crm.db, system_actor(), customer_id=customer, staff=staff,
                              since=at, limit=10_000)
        tz = crm.tz
    if as_json:
        print_json([{"id": r.id, "at": r.at.astimezone(tz).isoformat(), "staff": r.staff,
                     "action": r.action, "customer_id": r.customer_id, "count": r.count,
                     "customer_ids": list(r.ids), "terminal": r.terminal} for r in rows])
        return
    if not rows:
        note(t("privacy.cli.no_access"))
        return
    print_table([t("privacy.cli.col_at"), t("privacy.cli.col_staff"), t("privacy.cli.col_action"),
                 t("privacy.cli.col_customer"), t("privacy.cli.col_count"),
                 t("privacy.cli.col_terminal")],
                [(local_time(r.at, tz), r.staff, t(f"privacy.access.{r.action}"),
                  r.customer_id or "", r.count, r.terminal) for r in rows])

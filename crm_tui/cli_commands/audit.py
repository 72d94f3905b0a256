"""`crm audit verify` and `crm audit log`: checking and reading the tamper-evident log."""

from __future__ import annotations

from typing import Annotated

import typer

from crm_tui.cli_commands.base import DbOption, JsonOption, group, local_time, out, print_json, store
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.i18n import t


def register(app: typer.Typer) -> None:
    audit_app = group(app, "audit", t("cli.audit.help"))

    @audit_app.command("verify", help=t("cli.audit.verify_help"))
    def verify(db: DbOption = None) -> None:
        with store(db) as crm:
            report = audit.verify_chain(crm.db)
        if report.ok:
            out(t("cli.audit.intact", count=report.checked))
            return
        typer.echo(t("cli.audit.broken", id=report.bad_event_id, reason=t(report.reason),
                     checked=report.checked), err=True)
        raise typer.Exit(1)

    @audit_app.command("log", help=t("cli.audit.log_help"))
    def log(
        entity: Annotated[str | None, typer.Option("--entity", help=t("cli.audit.opt_entity"))] = None,
        entity_id: Annotated[str | None, typer.Option("--id", help=t("cli.audit.opt_id"))] = None,
        actor: Annotated[str | None, typer.Option("--actor", help=t("cli.audit.opt_actor"))] = None,
        action: Annotated[str | None, typer.Option("--action", help=t("cli.audit.opt_action"))] = None,
        limit: Annotated[int, typer.Option("--limit", min=1, max=100_000,
                                           help=t("cli.audit.opt_limit"))] = 50,
        db: DbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        with store(db) as crm:
            rows: list[audit.AuditRow] = []
            before_id: int | None = None
            # Page through by id so --action can filter without loading the whole log.
            while len(rows) < limit:
                page = audit.list_events(crm.db, system_actor(), entity=entity, entity_id=entity_id,
                                         actor_name=actor, before_id=before_id,
                                         limit=min(1000, max(limit, 50)))
                if not page:
                    break
                rows.extend(r for r in page if action is None or r.action == action)
                before_id = page[-1].id
                if action is None:
                    break
            rows = rows[:limit]
            tz = crm.tz
        if as_json:
            print_json([{"id": r.id, "at": r.at.astimezone(tz).isoformat(), "actor": r.actor,
                         "action": r.action, "entity": r.entity, "entity_id": r.entity_id,
                         "before": r.before, "after": r.after} for r in rows])
            return
        if not rows:
            out(t("cli.audit.none"))
            return
        for r in rows:
            target = f"{r.entity}#{r.entity_id}" if r.entity_id else r.entity
            change = " ".join(part for part in (r.before and f"{t('cli.audit.before')} {r.before}",
                                                r.after and f"{t('cli.audit.after')} {r.after}") if part)
            out(f"{r.id:>7}  {local_time(r.at, tz)}  {r.actor:<16} {r.action:<22} {target}  {change}"
                .rstrip())

    @audit_app.command("access", help=t("privacy.cli.access_help"))
    def access(
        customer: Annotated[int | None, typer.Option("--customer", metavar="ID",
                                                     help=t("privacy.cli.opt_customer"))] = None,
        staff: Annotated[str | None, typer.Option("--staff", metavar="USER",
                                                  help=t("privacy.cli.opt_staff"))] = None,
        since: Annotated[str | None, typer.Option("--since", metavar="DATE",
                                                  help=t("privacy.cli.opt_since"))] = None,
        db: DbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        from crm_tui.cli_commands.privacy import print_access

        print_access(db, customer, staff, since, as_json)


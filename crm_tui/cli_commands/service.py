"""`crm tickets list|import`, `crm import tickets`, `crm outbox list`, `crm tasks list`:
the service desk from the shell (translation only; the rules are in domain.service)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crm_tui.cli_commands.base import (
    CliError,
    DbOption,
    JsonOption,
    group,
    local_time,
    note,
    out,
    print_json,
    print_table,
    store,
)
from crm_tui.cli_commands.fields import FieldFilters, custom_filters, with_custom
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.i18n import t

FileArg = Annotated[Path, typer.Argument(metavar="FILE", help=t("cli.import.arg_file"))]
RejectsOpt = Annotated[Path | None, typer.Option("--rejects", metavar="PATH",
                                                 help=t("cli.import.opt_rejects"))]
LimitOption = Annotated[int, typer.Option("--limit", min=1, max=100_000, help=t("cli.tickets.opt_limit"))]


def _import(file: Path, rejects: Path | None, db: str | None) -> None:
    from crm_tui.cli_commands.data import _print_error
    from crm_tui.domain.data_io.ticket_import import import_tickets

    with store(db) as crm:
        report = import_tickets(crm, system_actor(), file, rejects_path=rejects,
                                on_error=_print_error)
    out(t("cli.tickets.summary", rows=report.rows, stored=report.stored, rejected=report.rejected))
    if report.rejects_path is not None:
        note(t("cli.import.rejects_written", path=str(report.rejects_path)))
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    tickets_app = group(app, "tickets", t("cli.tickets.help"))
    import_app = group(app, "import", t("cli.import.help"))
    outbox_app = group(app, "outbox", t("cli.outbox.help"))
    tasks_app = group(app, "tasks", t("cli.tasks.help"))

    @import_app.command("tickets", help=t("cli.tickets.import_help"))
    def import_tickets(file: FileArg, rejects: RejectsOpt = None, db: DbOption = None) -> None:
        _import(file, rejects, db)

    @tickets_app.command("import", help=t("cli.tickets.import_help"))
    def tickets_import(file: FileArg, rejects: RejectsOpt = None, db: DbOption = None) -> None:
        _import(file, rejects, db)

    @tickets_app.command("list", help=t("cli.tickets.list_help"))
    def tickets_list(
        state: Annotated[str | None, typer.Option("--state", metavar="S",
                                                  help=t("cli.tickets.opt_state"))] = None,
        queue: Annotated[str | None, typer.Option("--queue", metavar="Q",
                                                  help=t("cli.tickets.opt_queue"))] = None,
        limit: LimitOption = 1000,
        field: FieldFilters = None,
        as_json: JsonOption = False,
        db: DbOption = None,
    ) -> None:
        from crm_tui.domain.service.queue import QueueFilter, all_states_page
        from crm_tui.domain.service.tickets import STATES

        if state is not None and state not in STATES:
            raise CliError("cli.tickets.bad_state", value=state, states=", ".join(STATES))
        rows = []
        with store(db) as crm:
            flt = QueueFilter(state=state, queue=queue,
                              custom=custom_filters(crm, "ticket", field))
            before: int | None = None
            while len(rows) < limit:
                want = min(500, limit - len(rows))
                page = all_states_page(crm, system_actor(), flt, before_id=before, limit=want)
                rows.extend(page)
                if len(page) < want:
                    break
                before = page[-1].id
            tz = crm.tz
        if as_json:
            with store(db) as crm:
                print_json(with_custom(crm, "ticket", [r.as_json() for r in rows]))
            return
        if not rows:
            out(t("cli.tickets.none"))
            return
        print_table([t("cli.col.ticket_id"), t("cli.col.type"), t("cli.col.priority"),
                     t("cli.col.state"), t("cli.col.queue"), t("cli.col.assignee"),
                     t("cli.col.customer"), t("cli.col.due"), t("cli.col.breached")],
                    [[r.id, t(f"service.type.{r.type}"), t(f"service.priority.{r.priority}"),
                      t(f"service.state.{r.state}"), r.queue, r.assignee or "", r.customer_name,
                      local_time(r.next_due_at, tz), "!" if r.breached else ""] for r in rows])

    @outbox_app.command("list", help=t("cli.outbox.list_help"))
    def outbox_list(
        state: Annotated[str | None, typer.Option("--state", metavar="S",
                                                  help=t("cli.outbox.opt_state"))] = None,
        limit: LimitOption = 1000,
        as_json: JsonOption = False,
        db: DbOption = None,
    ) -> None:
        from crm_tui.domain.service.outbox import list_outbox

        with store(db) as crm:
            rows = list_outbox(crm, system_actor(), state=state, limit=limit)
            tz = crm.tz
        if as_json:
            print_json([r.as_json() for r in rows])
            return
        if not rows:
            out(t("cli.outbox.none"))
            return
        print_table([t("cli.col.ticket_id"), t("cli.col.channel"), t("cli.col.customer"),
                     t("cli.col.trigger"), t("cli.col.state"), t("cli.col.attempts"),
                     t("cli.col.created"), t("cli.col.title")],
                    [[r.id, t(f"service.channel.{r.channel}"), r.customer_id, r.trigger,
                      t(f"service.outbox_state.{r.state}"), r.attempts,
                      local_time(r.created_at, tz), r.subject or r.body[:30]] for r in rows])

    @tasks_app.command("list", help=t("cli.tasks.list_help"))
    def tasks_list(
        user: Annotated[str, typer.Option("--user", metavar="U", help=t("cli.tasks.opt_user"))],
        every: Annotated[bool, typer.Option("--all", help=t("cli.tasks.opt_all"))] = False,
        limit: LimitOption = 1000,
        as_json: JsonOption = False,
        db: DbOption = None,
    ) -> None:
        from sqlalchemy import select

        from crm_tui.domain.workflow.tasks import list_tasks
        from crm_tui.store.models import Staff

        with store(db) as crm:
            with crm.db.read() as session:
                staff_id = session.scalar(select(Staff.id).where(Staff.username == user))
            if staff_id is None:
                raise CliError("cli.tasks.no_user", username=user)
            rows = list_tasks(crm, system_actor(), owner_id=staff_id,
                              status=None if every else "open", limit=limit)
            tz = crm.tz
        if as_json:
            print_json([{"id": r.id, "owner": r.owner, "kind": r.kind, "title_key": r.title_key,
                         "title": _title(r.title_key, r.params), "params": r.params,
                         "customer_id": r.customer_id, "customer_name": r.customer_name,
                         "entity": r.entity, "entity_id": r.entity_id,
                         "due_at": r.due_at.isoformat(), "status": r.status,
                         "done_at": r.done_at.isoformat() if r.done_at else None,
                         "note": r.note} for r in rows])
            return
        if not rows:
            out(t("cli.tasks.none"))
            return
        print_table([t("cli.col.ticket_id"), t("cli.col.kind"), t("cli.col.title"),
                     t("cli.col.due"), t("cli.col.state")],
                    [[r.id, r.kind, _title(r.title_key, r.params), local_time(r.due_at, tz),
                      r.status] for r in rows])


def _title(key: str, params: dict[str, object]) -> str:
    """A task title: params ending in `_key` are catalog keys, translated first."""
    values = {k.removesuffix("_key"): (t(str(v)) if k.endswith("_key") and v else v)
              for k, v in params.items()}
    values.update({k: v for k, v in params.items() if not k.endswith("_key")})
    return t(key, **values)

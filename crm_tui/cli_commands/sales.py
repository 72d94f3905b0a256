"""`crm leads list`, `crm opportunities list` and `crm import leads FILE`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from crm_tui.cli_commands.base import DbOption, JsonOption, group, note, out, print_json, print_table, store
from crm_tui.cli_commands.fields import FieldFilters, custom_filters, with_custom
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.kernel.errors import FieldError
from crm_tui.i18n import t

LIMIT = 1000


def _iso(value: datetime | None, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).isoformat(timespec="seconds") if value else None


def register(app: typer.Typer) -> None:
    leads_app = group(app, "leads", t("cli.sales.leads_help"))
    opps_app = group(app, "opportunities", t("cli.sales.opportunities_help"))
    import_app = group(app, "import", t("cli.import.help"))

    @leads_app.command("list", help=t("cli.sales.leads_list_help"))
    def leads_list(
        status: Annotated[str | None, typer.Option("--status", metavar="S",
                                                   help=t("cli.sales.opt_status"))] = None,
        owner: Annotated[str | None, typer.Option("--owner", metavar="USER",
                                                  help=t("cli.sales.opt_owner"))] = None,
        limit: Annotated[int, typer.Option("--limit", min=1, max=100_000)] = LIMIT,
        field: FieldFilters = None,
        as_json: JsonOption = False,
        db: DbOption = None,
    ) -> None:
        from crm_tui.domain.sales.leads import list_leads

        if status is not None and status not in ("new", "assigned", "contacted", "converted",
                                                 "disqualified"):
            raise typer.BadParameter(t("validation.choice", value=status), param_hint="--status")
        with store(db) as crm:
            rows, before = [], None
            custom = custom_filters(crm, "lead", field)
            while len(rows) < limit:
                page = list_leads(crm, system_actor(), status=status, owner=owner,
                                  before_id=before, limit=min(500, limit - len(rows)),
                                  custom=custom)
                rows += page
                if len(page) < 500 or len(rows) >= limit:
                    break
                before = page[-1].id
            tz = crm.tz
        data: list[dict[str, Any]] = [{
            "id": v.id, "status": v.status, "owner": v.owner, "name": v.name, "source": v.source,
            "phone": v.phone, "created_at": _iso(v.created_at, tz),
            "assigned_at": _iso(v.assigned_at, tz), "first_contact_due": _iso(v.first_contact_due, tz),
            "first_contact_at": _iso(v.first_contact_at, tz), "breached": v.breached,
            "customer_id": v.customer_id, "amount": str(v.estimated_assets),
            "stage_entered_at": None, "rule": v.rule or None} for v in rows]
        if as_json:
            with store(db) as crm:
                print_json(with_custom(crm, "lead", data))
            return
        print_table([t("cli.sales.col_id"), t("field.name"), t("cli.sales.col_status"),
                     t("field.owner"), t("cli.sales.col_due"), t("cli.sales.col_breached")],
                    [(d["id"], d["name"], t(f"sales.lead_status.{d['status']}"), d["owner"] or "-",
                      d["first_contact_due"], "!" if d["breached"] else "") for d in data])

    @opps_app.command("list", help=t("cli.sales.opportunities_list_help"))
    def opportunities_list(
        stage: Annotated[str | None, typer.Option("--stage", metavar="S",
                                                  help=t("cli.sales.opt_stage"))] = None,
        owner: Annotated[str | None, typer.Option("--owner", metavar="USER",
                                                  help=t("cli.sales.opt_owner"))] = None,
        limit: Annotated[int, typer.Option("--limit", min=1, max=100_000)] = LIMIT,
        field: FieldFilters = None,
        as_json: JsonOption = False,
        db: DbOption = None,
    ) -> None:
        from crm_tui.domain.sales.board import BoardFilter, column_cards
        from crm_tui.domain.sales.opportunities import STAGES

        if stage is not None and stage not in STAGES:
            raise typer.BadParameter(t("validation.choice", value=stage), param_hint="--stage")
        with store(db) as crm:
            cards, after = [], None
            flt = BoardFilter(owner=owner, custom=custom_filters(crm, "opportunity", field))
            while len(cards) < limit:
                page = column_cards(crm, system_actor(), stage, flt,
                                    after=after, limit=min(500, limit - len(cards)))
                cards += page
                if len(page) < 500 or len(cards) >= limit:
                    break
                after = (page[-1].stage_entered_at, page[-1].id)
            tz = crm.tz
        data = [{"id": c.id, "stage": c.stage, "owner": c.owner, "customer_id": c.customer_id,
                 "customer": c.customer, "product": c.product, "amount": str(c.amount),
                 "created_at": _iso(c.created_at, tz), "stage_entered_at": _iso(c.stage_entered_at, tz),
                 "assigned_at": _iso(c.assigned_at, tz),
                 "first_contact_due": _iso(c.first_contact_due, tz),
                 "first_contact_at": _iso(c.first_contact_at, tz), "breached": c.breached}
                for c in cards]
        if as_json:
            with store(db) as crm:
                print_json(with_custom(crm, "opportunity", data))
            return
        print_table([t("cli.sales.col_id"), t("sales.doc.party_customer"), t("cli.sales.col_stage"),
                     t("field.owner"), t("field.amount"), t("cli.sales.col_entered")],
                    [(d["id"], d["customer"], t(f"sales.stage.{d['stage']}"), d["owner"],
                      d["amount"], d["stage_entered_at"]) for d in data])

    @import_app.command("leads", help=t("cli.sales.import_help"))
    def import_leads_cmd(
        file: Annotated[Path, typer.Argument(metavar="FILE", help=t("cli.import.arg_file"))],
        strict: Annotated[bool, typer.Option("--strict", help=t("cli.import.opt_strict"))] = False,
        dry_run: Annotated[bool, typer.Option("--dry-run", help=t("cli.import.opt_dry_run"))] = False,
        rejects: Annotated[Path | None, typer.Option("--rejects", metavar="PATH",
                                                     help=t("cli.import.opt_rejects"))] = None,
        db: DbOption = None,
    ) -> None:
        from crm_tui.domain.data_io.lead_import import import_leads

        def show(error: FieldError) -> None:
            typer.echo(error.line(), err=True)

        with store(db) as crm:
            report = import_leads(crm, system_actor(), file, strict=strict, dry_run=dry_run,
                                  rejects_path=rejects, on_error=show)
        if report.dry_run:
            out(t("cli.sales.import_dry_run", rows=report.rows,
                  would=report.rows - report.rejected, rejected=report.rejected))
        elif report.strict_refused:
            out(t("cli.import.strict_refused", rows=report.rows, rejected=report.rejected))
        else:
            out(t("cli.sales.import_summary", rows=report.rows, stored=report.stored,
                  assigned=report.assigned, rejected=report.rejected,
                  encoding=report.encoding or "xlsx", seconds=f"{report.elapsed:.1f}"))
        if report.rejects_path is not None:
            note(t("cli.import.rejects_written", path=str(report.rejects_path)))
        if not report.ok:
            raise typer.Exit(1)

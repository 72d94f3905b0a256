"""`crm report …`: saved reports from the command line.

`list` and `run NAME --format table|csv|xlsx|json [--out FILE]` are a contract. A report runs
in a named staff member's scope (`--as USER`, password on stdin) or, run by the operator at
the machine, bank-wide (restricted customers always left out). Definitions are TOML files:
`import FILE|FOLDER…` creates or updates them by name (all checked first, nothing saved if
one is bad), `export NAME` prints one back, `fields ENTITY` lists what a report may use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from crm_tui.cli_commands.base import (
    CliError,
    DbOption,
    JsonOption,
    group,
    note,
    out,
    print_json,
    print_table,
    store,
)
from crm_tui.i18n import t


def _opt(name: str, key: str, **kw: Any) -> Any:
    return typer.Option(name, help=t(key), show_default=False, **kw)


AsOption = Annotated[str | None, _opt("--as", "reports.cli.opt_as")]


def _actor(crm: Any, username: str | None) -> Any:
    from crm_tui.cli_commands.reporting import cli_actor

    return cli_actor(crm, username)  # the same reader as `crm kpi`


def register(app: typer.Typer) -> None:
    report = group(app, "report", t("reports.cli.help"))

    @report.command("list", help=t("reports.cli.list_help"))
    def list_cmd(json_out: JsonOption = False, as_user: AsOption = None, db: DbOption = None) -> None:
        from crm_tui.domain.reporting.reports import list_reports

        with store(db) as crm:
            rows = list_reports(crm, _actor(crm, as_user))
        lang = t("lang.code")
        if json_out:
            print_json([{"name": r.name, "title": r.title(lang), "entity": r.entity,
                         "created_by": r.created_by, "updated_at": r.updated_at,
                         "version": r.version, "valid": r.definition is not None} for r in rows])
            return
        print_table([t("reports.cli.col_name"), t("reports.cli.col_title"), t("reports.cli.col_entity"),
                     t("reports.cli.col_by")],
                    [(r.name, r.title(lang) if r.definition else f"⚠ {r.problem}",
                      t(f"reports.entity.{r.entity}") if r.entity else "", r.created_by)
                     for r in rows])

    @report.command("run", help=t("reports.cli.run_help"))
    def run_cmd(
        name: Annotated[str, typer.Argument(metavar="NAME")],
        fmt: Annotated[str, _opt("--format", "reports.cli.opt_format")] = "table",
        out_file: Annotated[Path | None, _opt("--out", "reports.cli.opt_out")] = None,
        as_user: AsOption = None,
        db: DbOption = None,
    ) -> None:
        from crm_tui.domain.reporting import report_files as files
        from crm_tui.domain.reporting.reports import run_saved

        if fmt not in files.FORMATS:
            raise CliError("reports.error.format", format=fmt)
        if fmt == "xlsx" and out_file is None:
            raise CliError("reports.error.xlsx_needs_out")
        if fmt == "table" and out_file is not None:
            raise CliError("reports.error.format", format="table --out")
        with store(db) as crm:
            actor = _actor(crm, as_user)
            result = run_saved(crm, actor, name)
            if out_file is not None:
                path = files.write_report(crm, actor, result, out_file, fmt)
                note(t("reports.cli.written", path=str(path), rows=len(result.rows)))
                return
        if fmt == "json":
            print_json(files.as_json(result))
        elif fmt == "csv":
            typer.echo(files.csv_text(result), nl=False)
        else:
            out(result.definition.title(t("lang.code")))
            print_table(files.headers(result), files.text_rows(result))
        if result.truncated:
            note(t("reports.cli.truncated", rows=len(result.rows)))

    @report.command("import", help=t("reports.cli.import_help"))
    def import_cmd(
        paths: Annotated[list[Path], typer.Argument(metavar="FILE|FOLDER…")],
        dry_run: Annotated[bool, _opt("--dry-run", "reports.cli.opt_dry_run")] = False,
        db: DbOption = None,
    ) -> None:
        from crm_tui.domain.kernel.actor import system_actor
        from crm_tui.domain.reporting.reports import import_reports

        with store(db) as crm:
            done = import_reports(crm, system_actor("cli"), paths, dry_run=dry_run)
        for name, action in done:
            out(t(f"reports.cli.import_{action}", name=name))

    @report.command("export", help=t("reports.cli.export_help"))
    def export_cmd(
        name: Annotated[str, typer.Argument(metavar="NAME")],
        out_file: Annotated[Path | None, _opt("--out", "reports.cli.opt_out")] = None,
        db: DbOption = None,
    ) -> None:
        from crm_tui.domain.kernel import safe_files
        from crm_tui.domain.kernel.actor import system_actor
        from crm_tui.domain.reporting.reports import get_report

        with store(db) as crm:
            view = get_report(crm, system_actor("cli"), name)
            if out_file is None:
                typer.echo(view.body, nl=False)
                return
            protected = safe_files.protected_for(crm)
            safe_files.write_text(safe_files.check_output(out_file, protected), view.body, protected)
        note(t("reports.cli.written", path=str(out_file), rows=1))

    @report.command("delete", help=t("reports.cli.delete_help"))
    def delete_cmd(name: Annotated[str, typer.Argument(metavar="NAME")], db: DbOption = None) -> None:
        from crm_tui.domain.kernel.actor import system_actor
        from crm_tui.domain.reporting.reports import delete_report

        with store(db) as crm:
            delete_report(crm, system_actor("cli"), name)
        out(t("reports.cli.deleted", name=name))

    @report.command("fields", help=t("reports.cli.fields_help"))
    def fields_cmd(
        entity: Annotated[str, typer.Argument(metavar="ENTITY")],
        json_out: JsonOption = False,
        db: DbOption = None,
    ) -> None:
        from crm_tui.domain.reporting.report_fields import GROUPABLE, NUMERIC
        from crm_tui.domain.reporting.reports import available_fields

        with store(db) as crm:
            fields = available_fields(crm, entity)
        rows = [{"key": f.key, "label": f.label(t), "kind": f.kind,
                 "group_by": f.kind in GROUPABLE, "sum": f.kind in NUMERIC,
                 "buckets": f.kind in ("date", "datetime"), "choices": list(f.choices),
                 "custom": f.custom} for f in fields.values()]
        if json_out:
            print_json(rows)
            return
        yes, no = t("reports.yes"), t("reports.no")
        print_table([t("reports.cli.col_key"), t("reports.cli.col_label"), t("reports.cli.col_kind"),
                     t("reports.cli.col_group"), t("reports.cli.col_sum")],
                    [(r["key"], r["label"], t(f"reports.kind.{r['kind']}"),
                      yes if r["group_by"] else no, yes if r["sum"] else no) for r in rows])

"""`crm products import|list|retire` and `crm import prices|rates`: the catalogue from the
shell. Each bad row is one `row N: field: reason` line on stderr, the command exits 1 and the
rows go to a rejects file; nothing half-written."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crm_tui.cli_commands.base import DbOption, JsonOption, group, note, out, print_json, print_table, store
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.kernel.errors import FieldError
from crm_tui.i18n import t

FileArg = Annotated[Path, typer.Argument(metavar="FILE", help=t("cli.import.arg_file"))]


def _print_error(error: FieldError) -> None:
    typer.echo(error.line(), err=True)


def _finish(report) -> None:  # type: ignore[no-untyped-def]
    out(t("products.cli.summary", file=report.file, rows=report.rows, created=report.created,
          updated=report.updated, unchanged=report.unchanged, rejected=report.rejected))
    if report.revalued:
        note(t("products.cli.revalued", n=report.revalued))
    if report.rejects_path is not None:
        note(t("cli.import.rejects_written", path=str(report.rejects_path)))
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    products_app = group(app, "products", t("products.cli.help"))
    import_app = group(app, "import", t("cli.import.help"))

    @products_app.command("import", help=t("products.cli.import_help"))
    def products_import(file: FileArg, db: DbOption = None) -> None:
        from crm_tui.domain.data_io.product_files import import_products

        with store(db) as crm:
            report = import_products(crm, system_actor(), file, on_error=_print_error)
        _finish(report)

    @products_app.command("list", help=t("products.cli.list_help"))
    def products_list(
        active: Annotated[bool, typer.Option("--active", help=t("products.cli.opt_active"))] = False,
        json_out: JsonOption = False,
        db: DbOption = None,
    ) -> None:
        from crm_tui.domain.products.catalogue import list_catalogue

        rows = []
        with store(db) as crm:
            after = None
            while True:
                page = list_catalogue(crm, system_actor(), after=after, limit=500,
                                      include_retired=not active)
                rows += page
                if len(page) < 500:
                    break
                after = page[-1].code
        if json_out:
            print_json([p.as_dict() for p in rows])
            return
        print_table([t(f"products.cli.col.{c}") for c in
                     ("code", "name", "asset_class", "risk", "currency", "min", "maturity",
                      "issuer", "status")],
                    [(p.code, p.name, t(f"products.asset_class.{p.asset_class}"), p.risk_level,
                      p.currency, f"{p.min_amount:,.2f}",
                      p.maturity_date.isoformat() if p.maturity_date else t("products.open_ended"),
                      p.issuer, t("products.status.active" if p.active else "products.status.retired"))
                     for p in rows])

    @products_app.command("retire", help=t("products.cli.retire_help"))
    def products_retire(
        code: Annotated[str, typer.Argument(metavar="CODE", help=t("products.cli.arg_code"))],
        db: DbOption = None,
    ) -> None:
        from crm_tui.domain.products.catalogue import retire_product

        with store(db) as crm:
            view = retire_product(crm, system_actor(), code)
        out(t("products.cli.retired", code=view.code, name=view.name))

    @import_app.command("prices", help=t("products.cli.prices_help"))
    def import_prices(file: FileArg, db: DbOption = None) -> None:
        from crm_tui.domain.data_io.product_files import import_prices as run

        with store(db) as crm:
            report = run(crm, system_actor(), file, on_error=_print_error)
        _finish(report)

    @import_app.command("rates", help=t("products.cli.rates_help"))
    def import_rates(file: FileArg, db: DbOption = None) -> None:
        from crm_tui.domain.data_io.product_files import import_rates as run

        with store(db) as crm:
            report = run(crm, system_actor(), file, on_error=_print_error)
        _finish(report)

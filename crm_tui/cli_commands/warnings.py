"""`crm warnings churn|cross-sell`: the early-warning lists, as a named staff member's scope
(`--as USER`, password on stdin) or bank-wide for the operator; `--json`, `--export FILE`
(CSV/XLSX, masked, 0600, audited) and `--tasks` (a follow-up task per customer for the
owning RM, idempotent). The same domain functions feed the warnings screen."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from crm_tui.cli_commands.base import DbOption, JsonOption, out, print_json, store
from crm_tui.cli_commands.reporting import cli_actor
from crm_tui.i18n import t


def _opt(name: str, key: str) -> Any:
    return typer.Option(name, help=t(key), show_default=False)


Branch = Annotated[str | None, _opt("--branch", "reporting.cli.opt_branch")]
Team = Annotated[int | None, _opt("--team", "reporting.cli.opt_team")]
Rm = Annotated[str | None, _opt("--rm", "reporting.cli.opt_rm")]
As = Annotated[str | None, _opt("--as", "reporting.cli.opt_as")]
AsOf = Annotated[str | None, _opt("--as-of", "reporting.warning.cli.opt_as_of")]
Limit = Annotated[int, typer.Option("--limit", min=1, max=100_000,
                                    help=t("reporting.warning.cli.opt_limit"))]
Export = Annotated[Path | None, _opt("--export", "reporting.warning.cli.opt_export")]
Format = Annotated[str | None, _opt("--format", "reporting.warning.cli.opt_format")]
Tasks = Annotated[bool, typer.Option("--tasks", help=t("reporting.warning.cli.opt_tasks"))]


def _json_row(r: Any) -> dict[str, Any]:
    base = {"customer_id": r.customer_id, "customer": r.customer, "rm": r.rm, "aum": r.aum}
    if hasattr(r, "score"):
        base["score"] = r.score
        base["factors"] = [{"factor": f.key, "weight": f.weight, "hit": f.hit,
                            "points": f.weight if f.hit else 0, **f.params} for f in r.factors]
    else:
        base["category"] = r.category
    return base


def _line(r: Any) -> str:
    from crm_tui.domain.reporting.warning_export import factor_text

    who = f"{r.customer} (#{r.customer_id})  {r.rm or '—'}  ¥{r.aum}"
    if hasattr(r, "score"):
        fired = "; ".join(factor_text(f, t) for f in r.factors if f.hit)
        return f"{r.score:>3}  {who}  {fired}"
    return f"{who}  {t('tui.product_category.' + r.category)}"


def _run(kind: str, branch: str | None, team: int | None, rm: str | None, as_user: str | None,
         as_of: str | None, limit: int, export: Path | None, fmt: str | None, tasks: bool,
         json_out: bool, db: str | None) -> None:
    from dataclasses import asdict

    from crm_tui.domain.reporting.base import KpiFilter
    from crm_tui.domain.reporting.churn_risk import as_of_utc, parse_as_of
    from crm_tui.domain.reporting.period import current_quarter
    from crm_tui.domain.reporting.warning_lists import make_tasks, warning_page

    with store(db) as crm:
        actor = cli_actor(crm, as_user, "cli:warnings")
        at = parse_as_of(crm, as_of) if as_of else as_of_utc(None)
        f = KpiFilter(current_quarter(crm.tz), branch, team, rm)
        if export is not None or tasks:
            if export is not None:
                from crm_tui.domain.reporting.warning_export import export_warnings

                done = export_warnings(crm, actor, kind, export, fmt, f=f, as_of=at)
                out(t("reporting.warning.cli.exported", n=done.rows, path=str(done.path)))
            if tasks:
                made = make_tasks(crm, actor, kind, f, as_of=at)
                if json_out:
                    print_json(asdict(made))
                else:
                    out(t("reporting.warning.cli.tasks", created=made.created,
                          existing=made.existing, without_rm=made.without_rm))
            return
        rows = warning_page(crm, actor, kind, f, as_of=at, limit=limit)
        rules = crm.policy().reporting.churn_risk
    if json_out:
        body: dict[str, Any] = {"list": kind, "as_of": at, "rows": [_json_row(r) for r in rows]}
        if kind == "churn":
            body["rules"] = rules.model_dump()
        print_json(body)
        return
    out(t(f"reporting.warning.cli.header_{kind}", n=len(rows)))
    for r in rows:
        out(_line(r))


def register(app: typer.Typer) -> None:
    warnings = typer.Typer(help=t("reporting.warning.cli.help"), no_args_is_help=True)
    app.add_typer(warnings, name="warnings")

    @warnings.command("churn", help=t("reporting.warning.cli.churn_help"))
    def churn(branch: Branch = None, team: Team = None, rm: Rm = None, as_user: As = None,
              as_of: AsOf = None, limit: Limit = 100, export: Export = None,
              fmt: Format = None, tasks: Tasks = False, json_out: JsonOption = False,
              db: DbOption = None) -> None:
        _run("churn", branch, team, rm, as_user, as_of, limit, export, fmt, tasks, json_out, db)

    @warnings.command("cross-sell", help=t("reporting.warning.cli.cross_sell_help"))
    def cross_sell(branch: Branch = None, team: Team = None, rm: Rm = None, as_user: As = None,
                   as_of: AsOf = None, limit: Limit = 100, export: Export = None,
                   fmt: Format = None, tasks: Tasks = False, json_out: JsonOption = False,
                   db: DbOption = None) -> None:
        _run("cross_sell", branch, team, rm, as_user, as_of, limit, export, fmt, tasks,
             json_out, db)

"""`crm kpi` (every figure, `--json` with the contract's keys) and `crm targets set`.

The CLI reads figures as a named staff member's scope (`--as USER`, password on stdin), or
as the whole bank when run as the system by an operator; the same domain functions feed the
KPI screen."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from crm_tui.cli_commands.base import DbOption, JsonOption, out, print_json, read_password, store
from crm_tui.domain.kernel.actor import Actor
from crm_tui.i18n import t


def _opt(name: str, key: str) -> Any:
    return typer.Option(name, help=t(key), show_default=False)


def cli_actor(crm: Any, username: str | None, name: str = "cli:kpi") -> Actor:
    if username is None:
        # the operator at the machine: the bank-wide view (compliance-like scope)
        return Actor(id=None, username=name, display_name="cli", role="compliance")
    from crm_tui.domain.admin.auth import login

    return login(crm, username, read_password(True, confirm=False))  # the password on stdin


def _print(k: dict[str, Any]) -> None:
    s, v, sv = k["sales"], k["value"], k["service"]

    def r(x: float | None) -> str:
        return "—" if x is None else f"{x:.1%}"

    out(t("reporting.cli.header", start=k["period"]["start"].isoformat(),
          end=k["period"]["end"].isoformat()))
    out(t("reporting.panel.sales"))
    for f in s["funnel"]:
        stage = t("reporting.stage." + f["stage"])
        out(f"  {stage}: {f['entered']} → {f['advanced']} ({r(f['conversion'])})")
    out(f"  {t('reporting.kpi.close_cycle')}: {s['close_cycle_days_avg'] or '—'}")
    out(f"  {t('reporting.kpi.aum_per_customer')}: {s['aum_per_customer'] or '—'}")
    for p in s["product_ranking"]:
        out(f"  {t('reporting.kpi.product')}: {p['product']}  {p['amount']} ({p['count']})")
    for a in s["target_attainment"]:
        out(f"  {t('reporting.kpi.target')}: {a['who']}  {a['actual']} / {a['target']} ({r(a['ratio'])})")
    out(t("reporting.panel.value"))
    for tier in v["aum_pyramid"]:
        out(f"  {t('reporting.tier.' + tier['tier'])}: {tier['customers']}  {tier['aum']}")
    out(f"  {t('reporting.kpi.ltv')}: {v['ltv_avg'] or '—'}")
    out(f"  {t('reporting.kpi.churn')}: {r(v['churn_rate'])}  {v['churn_reasons']}")
    out(f"  {t('reporting.kpi.activity')}: {v['interactions_per_customer']} / {v['trades_per_customer']}")
    out(f"  {t('reporting.kpi.cross_sell')}: {r(v['cross_sell_rate'])}")
    out(t("reporting.panel.service"))
    out(f"  {t('reporting.kpi.first_response')}: {sv['first_response_minutes_avg'] or '—'}")
    out(f"  {t('reporting.kpi.resolution')}: {sv['resolution_hours_avg'] or '—'}")
    out(f"  {t('reporting.kpi.sla')}: {r(sv['sla_attainment'])}")
    out(f"  {t('reporting.kpi.volume')}: {sv['volume_by_type']}")
    out(f"  {t('reporting.kpi.csat')}: {sv['csat_avg'] or '—'}")
    out(f"  {t('reporting.kpi.fcr')}: {r(sv['fcr_rate'])}")


def register(app: typer.Typer) -> None:
    @app.command("kpi", help=t("reporting.cli.kpi_help"))
    def kpi(
        period: Annotated[str | None, _opt("--period", "reporting.cli.opt_period")] = None,
        branch: Annotated[str | None, _opt("--branch", "reporting.cli.opt_branch")] = None,
        team: Annotated[int | None, _opt("--team", "reporting.cli.opt_team")] = None,
        rm: Annotated[str | None, _opt("--rm", "reporting.cli.opt_rm")] = None,
        category: Annotated[str | None, _opt("--category", "reporting.cli.opt_category")] = None,
        field: Annotated[list[str] | None, _opt("--field", "reporting.cli.opt_field")] = None,
        as_user: Annotated[str | None, _opt("--as", "reporting.cli.opt_as")] = None,
        json_out: JsonOption = False,
        db: DbOption = None,
    ) -> None:
        from crm_tui.domain.reporting.base import KpiFilter
        from crm_tui.domain.reporting.filters import parse_field_filter
        from crm_tui.domain.reporting.kpi import kpis
        from crm_tui.domain.reporting.period import current_quarter, parse_period

        with store(db) as crm:
            p = parse_period(period, crm.tz) if period else current_quarter(crm.tz)
            fields = tuple(parse_field_filter(x) for x in field or ())
            k = kpis(crm, cli_actor(crm, as_user), KpiFilter(p, branch, team, rm, category, fields))
        if json_out:
            print_json(k)
        else:
            _print(k)

    @app.command("forecast", help=t("reporting.cli.forecast_help"))
    def forecast_cmd(
        period: Annotated[str | None, _opt("--period", "reporting.cli.opt_period")] = None,
        as_user: Annotated[str | None, _opt("--as", "reporting.cli.opt_as")] = None,
        json_out: JsonOption = False,
        db: DbOption = None,
    ) -> None:
        from dataclasses import asdict

        from crm_tui.domain.reporting.base import KpiFilter
        from crm_tui.domain.reporting.forecast import forecast
        from crm_tui.domain.reporting.period import current_quarter, parse_period

        with store(db) as crm:
            p = parse_period(period, crm.tz) if period else current_quarter(crm.tz).next()
            fc = forecast(crm, cli_actor(crm, as_user), KpiFilter(p))
        if json_out:
            print_json(asdict(fc))
            return
        out(t("reporting.cli.forecast_total", period=fc.period, amount=fc.expected))
        for s in fc.stages:
            chance = "—" if s.chance is None else f"{s.chance:.1%}"
            out(t("reporting.cli.forecast_stage", stage=t(f"reporting.stage.{s.stage}"),
                  won=s.won, seen=s.seen, chance=chance, n=s.open_count, amount=s.open_amount,
                  expected=s.expected))

    targets = typer.Typer(help=t("reporting.cli.targets_help"), no_args_is_help=True)
    app.add_typer(targets, name="targets")

    @targets.command("set", help=t("reporting.cli.targets_set_help"))
    def targets_set(
        period: Annotated[str, typer.Argument(metavar="PERIOD")],
        amount: Annotated[str, typer.Argument(metavar="AMOUNT")],
        rm: Annotated[str | None, _opt("--rm", "reporting.cli.opt_rm")] = None,
        team: Annotated[str | None, _opt("--team-name", "reporting.cli.opt_team_name")] = None,
        db: DbOption = None,
    ) -> None:
        from crm_tui.domain.kernel.actor import system_actor
        from crm_tui.domain.reporting.targets import set_target

        with store(db) as crm:
            set_target(crm, system_actor(), period, amount, rm=rm, team=team)
        out(t("reporting.cli.target_set", period=period, who=rm or team, amount=amount))

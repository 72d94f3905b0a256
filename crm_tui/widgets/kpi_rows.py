"""Turning the KPI figures into table rows: label, value, previous value, and what Enter
drills into. Pure formatting, shared by the KPI screen (and testable without it)."""

from __future__ import annotations

from typing import Any

from crm_tui.i18n import t

Row = tuple[str, str, str, str | None, str | None]


def _rate(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def _num(x: Any) -> str:
    return "—" if x is None else str(x)


def _money(x: str | None) -> str:
    return "—" if x is None else f"¥{float(x):,.2f}"


def kpi_rows(now: dict[str, Any], before: dict[str, Any]) -> dict[str, list[Row]]:
    s, sb = now["sales"], before["sales"]
    v, vb = now["value"], before["value"]
    sv, svb = now["service"], before["service"]
    sales: list[Row] = []
    for cur, old in zip(s["funnel"], sb["funnel"], strict=True):
        sales.append((f"{t('reporting.kpi.funnel')} · {t('reporting.stage.' + cur['stage'])}",
                      _rate(cur["conversion"]), _rate(old["conversion"]), "funnel", cur["stage"]))
    sales.append((t("reporting.kpi.close_cycle"), _num(s["close_cycle_days_avg"]),
                  _num(sb["close_cycle_days_avg"]), None, None))
    sales.append((t("reporting.kpi.aum_per_customer"), _money(s["aum_per_customer"]),
                  _money(sb["aum_per_customer"]), "aum_per_customer", None))
    for p in s["product_ranking"]:
        sales.append((f"{t('reporting.kpi.product')} · {p['product']}", _money(p["amount"]), "—",
                      None, None))
    for a in s["target_attainment"]:
        sales.append((f"{t('reporting.kpi.target')} · {a['who']}", _rate(a["ratio"]), "—",
                      None, None))
    value: list[Row] = [
        (f"{t('reporting.kpi.pyramid')} · {t('reporting.tier.' + x['tier'])}",
         f"{x['customers']} · {_money(x['aum'])}", str(y["customers"]), "aum_pyramid", x["tier"])
        for x, y in zip(v["aum_pyramid"], vb["aum_pyramid"], strict=True)]
    value += [
        (t("reporting.kpi.ltv"), _money(v["ltv_avg"]), _money(vb["ltv_avg"]), None, None),
        (t("reporting.kpi.churn"), _rate(v["churn_rate"]), _rate(vb["churn_rate"]), "churn_rate", None),
        (t("reporting.kpi.activity"), f"{_num(v['interactions_per_customer'])} / "
         f"{_num(v['trades_per_customer'])}", f"{_num(vb['interactions_per_customer'])} / "
         f"{_num(vb['trades_per_customer'])}", None, None),
        (t("reporting.kpi.cross_sell"), _rate(v["cross_sell_rate"]), _rate(vb["cross_sell_rate"]),
         "cross_sell_rate", None),
    ]
    service: list[Row] = [
        (t("reporting.kpi.first_response"), _num(sv["first_response_minutes_avg"]),
         _num(svb["first_response_minutes_avg"]), None, None),
        (t("reporting.kpi.resolution"), _num(sv["resolution_hours_avg"]),
         _num(svb["resolution_hours_avg"]), None, None),
        (t("reporting.kpi.sla"), _rate(sv["sla_attainment"]), _rate(svb["sla_attainment"]),
         "sla_attainment", None),
        (t("reporting.kpi.csat"), _num(sv["csat_avg"]), _num(svb["csat_avg"]), None, None),
        (t("reporting.kpi.fcr"), _rate(sv["fcr_rate"]), _rate(svb["fcr_rate"]), None, None),
    ]
    service += [(f"{t('reporting.kpi.volume')} · {kind}", str(n),
                 str(svb["volume_by_type"].get(kind, 0)), "volume_by_type", kind)
                for kind, n in sv["volume_by_type"].items()]
    return {"sales": sales, "value": value, "service": service}


def change(value: str, previous: str) -> str:
    """The change against the previous period: ▲/▼ with the difference, when both are numbers."""
    def number(text: str) -> float | None:
        cleaned = text.split(" · ")[0].replace("¥", "").replace(",", "").replace("%", "")
        try:
            return float(cleaned)
        except ValueError:
            return None

    a, b = number(value), number(previous)
    if a is None or b is None:
        return "—"
    if a == b:
        return "="
    diff = a - b
    unit = "pp" if value.endswith("%") else ""
    return f"{'▲' if diff > 0 else '▼'}{abs(diff):,.1f}{unit}"

"""Every KPI on a small hand-built branch, with the answers worked out by hand (below, in
the comments), on SQLite and PostgreSQL; empty periods and zero denominators; scope."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from crm_tui.domain.kernel.errors import ValidationFailed
from crm_tui.domain.reporting.base import KpiFilter
from crm_tui.domain.reporting.kpi import kpis
from crm_tui.domain.reporting.period import parse_period
from crm_tui.store.models import Customer, Holding, Interaction, Product, Trade
from crm_tui.store.models_reporting import SalesTarget
from crm_tui.store.models_sales import Opportunity, OpportunityStageEvent
from crm_tui.store.models_service import Ticket
from tests.helpers import make_customer

SH = ZoneInfo("Asia/Shanghai")


def sh(m: int, d: int, h: int = 12, minute: int = 0, y: int = 2026) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=SH)


def build(crm, world) -> dict[str, int]:
    ids = {}
    for label, rm, aum in (("A", "rm1", 40_000_000), ("B", "rm1", 7_000_000),
                           ("C", "rm2", 1_000_000), ("D", "rm3", 100_000), ("E", "rm1", 0),
                           ("F", "rm_sh", 500_000)):
        cid = make_customer(crm, world[rm], f"客户{label}")
        ids[label] = cid
        with crm.db.write() as s:
            s.execute(update(Customer).where(Customer.id == cid).values(
                aum_fen=aum * 100, created_at=sh(1, 1, y=2025),
                branch_id=world[rm].branch_id))
    with crm.db.write() as s:
        s.execute(update(Customer).where(Customer.id == ids["E"]).values(
            churned_at=sh(8, 15), churn_reason="moved_bank"))
        fund = Product(code="P1", name="稳健混合基金", category="fund", risk_level="R2",
                       fee_rate_bp=100)
        deposit = Product(code="P2", name="大额存单", category="deposit", risk_level="R1")
        s.add_all([fund, deposit])
        s.flush()
        for cid, product, amount, at, kind in (
                (ids["A"], fund, 1_000_000, sh(8, 1), "subscription"),
                (ids["B"], fund, 500_000, sh(9, 1), "subscription"),
                (ids["C"], deposit, 300_000, sh(7, 15), "subscription"),
                (ids["D"], deposit, 200_000, sh(6, 30), "subscription"),  # before the quarter
                (ids["A"], fund, 100_000, sh(9, 2), "redemption")):
            s.add(Trade(customer_id=cid, product_id=product.id, kind=kind,
                        amount_fen=amount * 100, occurred_at=at, status="executed"))
        for cid, product in ((ids["A"], fund), (ids["A"], deposit), (ids["B"], fund),
                             (ids["C"], deposit)):
            s.add(Holding(customer_id=cid, product_id=product.id, amount_fen=1000))
        for cid, at in ((ids["A"], sh(7, 3)), (ids["A"], sh(8, 3)), (ids["C"], sh(9, 9)),
                        (ids["C"], sh(6, 1))):  # the last one is before the quarter
            s.add(Interaction(customer_id=cid, channel="phone", occurred_at=at, subject="回访"))
        # the funnel: O1 runs the whole way; O2 stops at matching; O3 entered needs in June
        stages = {"O1": (ids["A"], "rm1", [("needs", sh(7, 2)), ("matching", sh(7, 5)),
                                            ("proposal", sh(7, 10)), ("closing", sh(7, 20)),
                                            ("won", sh(8, 1))]),
                  "O2": (ids["B"], "rm1", [("needs", sh(7, 3)), ("matching", sh(7, 8))]),
                  "O3": (ids["C"], "rm2", [("needs", sh(6, 20)), ("matching", sh(7, 2)),
                                            ("proposal", sh(7, 5))]),
                  "O4": (ids["D"], "rm3", [("needs", sh(7, 10))])}
        for cid, rm, events in stages.values():
            last_stage, last_at = events[-1]
            o = Opportunity(customer_id=cid, owner_id=world[rm].id, stage=last_stage,
                            amount_fen=100_000_000, created_at=events[0][1],
                            stage_entered_at=last_at, product_id=fund.id,
                            closed_at=last_at if last_stage == "won" else None)
            s.add(o)
            s.flush()
            previous = None
            for stage, at in events:
                s.add(OpportunityStageEvent(opportunity_id=o.id, from_stage=previous,
                                            to_stage=stage, at=at, actor="test"))
                previous = stage
        for cid, kind, created, first, first_due, resolved, res_due, csat, fcr in (
                (ids["A"], "inquiry", sh(7, 1, 10), sh(7, 1, 10, 30), sh(7, 1, 11),
                 sh(7, 1, 14), sh(7, 1, 17), 5, True),
                (ids["B"], "complaint", sh(8, 1, 9), sh(8, 1, 11), sh(8, 1, 10),
                 sh(8, 3, 9), sh(8, 5, 9), 3, False),
                (ids["C"], "inquiry", sh(9, 1, 9), None, sh(9, 1, 10), None, sh(9, 2, 9),
                 None, None)):
            s.add(Ticket(customer_id=cid, type=kind, priority="normal",
                         state="resolved" if resolved else "new", queue="desk", subject="来电",
                         created_at=created, first_response_due=first_due, resolution_due=res_due,
                         first_response_at=first, resolved_at=resolved, csat=csat,
                         first_contact_resolution=fcr))
        s.add(SalesTarget(period="2026-Q3", staff_id=world["rm1"].id, amount_fen=200_000_000,
                          set_by="bh1"))
        s.add(SalesTarget(period="2026-Q3", team_id=world.teams["财富一组"],
                          amount_fen=500_000_000, set_by="bh1"))
    return ids


def q3(crm) -> KpiFilter:
    return KpiFilter(parse_period("2026-Q3", crm.tz))


def test_every_figure_for_the_branch_head(crm, world) -> None:
    build(crm, world)
    k = kpis(crm, world["bh1"], q3(crm))
    sales, value, service = k["sales"], k["value"], k["service"]
    # funnel: needs O1,O2,O4 entered (O3's needs was in June); O1,O2 moved on -> 2/3
    assert sales["funnel"] == [
        {"stage": "needs", "entered": 3, "advanced": 2, "conversion": 0.6667},
        {"stage": "matching", "entered": 3, "advanced": 2, "conversion": 0.6667},
        {"stage": "proposal", "entered": 2, "advanced": 1, "conversion": 0.5},
        {"stage": "closing", "entered": 1, "advanced": 1, "conversion": 1.0}]
    assert sales["close_cycle_days_avg"] == 30.0  # O1: 2 July to 1 August
    # A+B+C+D open (E churned): 48,100,000 / 4
    assert sales["aum_per_customer"] == "12025000.00"
    assert sales["product_ranking"] == [
        {"product": "P1 稳健混合基金", "amount": "1500000.00", "count": 2},
        {"product": "P2 大额存单", "amount": "300000.00", "count": 1}]
    # rm1's customers A+B subscribed 1.5M of 2M; the team (rm1, rm2) 1.8M of 5M
    assert sales["target_attainment"] == [
        {"who": "rm1", "target": "2000000.00", "actual": "1500000.00", "ratio": 0.75},
        {"who": "财富一组", "target": "5000000.00", "actual": "1800000.00", "ratio": 0.36}]
    assert value["aum_pyramid"] == [
        {"tier": "private", "customers": 1, "aum": "40000000.00"},
        {"tier": "hnw", "customers": 1, "aum": "7000000.00"},
        {"tier": "affluent", "customers": 1, "aum": "1000000.00"},
        {"tier": "mass", "customers": 1, "aum": "100000.00"}]
    # (48.1M x 0.5% + fees 15,000) x 8 years / 4 customers = 511,000
    assert value["ltv_avg"] == "511000.00"
    assert value["churn_rate"] == 0.2 and value["churn_reasons"] == {"moved_bank": 1}
    assert value["interactions_per_customer"] == 0.6  # 3 in the quarter / 5 open during it
    assert value["trades_per_customer"] == 0.8  # 4 executed / 5
    assert value["cross_sell_rate"] == 0.3333  # A of A, B, C
    assert service == {"first_response_minutes_avg": 75.0, "resolution_hours_avg": 26.0,
                       "sla_attainment": 0.5, "volume_by_type": {"inquiry": 2, "complaint": 1},
                       "csat_avg": 4.0, "fcr_rate": 0.5}
    assert k["period"]["start"] == sh(7, 1, 0)


def test_scope_rm_and_supervisor(crm, world) -> None:
    build(crm, world)
    mine = kpis(crm, world["rm1"], q3(crm))
    assert mine["sales"]["aum_per_customer"] == "23500000.00"  # A and B
    assert mine["value"]["churn_rate"] == 0.3333  # E of A, B, E
    assert [t["who"] for t in mine["sales"]["target_attainment"]] == ["rm1"]
    assert mine["service"]["volume_by_type"] == {"inquiry": 1, "complaint": 1}
    assert [f["entered"] for f in mine["sales"]["funnel"]] == [2, 2, 1, 1]
    team = kpis(crm, world["sup1"], q3(crm))
    assert team["value"]["aum_pyramid"][2]["customers"] == 1  # C, rm2's, is in the team
    assert team["service"]["volume_by_type"] == {"inquiry": 2, "complaint": 1}
    other = kpis(crm, world["bh_sh"], q3(crm))
    assert other["sales"]["aum_per_customer"] == "500000.00"  # F only
    # the filter bar narrows, never widens: rm1 asking for rm3's book gets nothing
    narrowed = kpis(crm, world["rm1"], KpiFilter(q3(crm).period, rm="rm3"))
    assert narrowed["sales"]["aum_per_customer"] is None


def test_empty_period_and_zero_denominators(crm, world) -> None:
    build(crm, world)
    k = kpis(crm, world["bh1"], KpiFilter(parse_period("2024-Q1", crm.tz)))
    assert [f["conversion"] for f in k["sales"]["funnel"]] == [None] * 4
    assert k["sales"]["close_cycle_days_avg"] is None
    assert k["sales"]["aum_per_customer"] is None and k["value"]["ltv_avg"] is None
    assert k["value"]["churn_rate"] is None and k["value"]["interactions_per_customer"] is None
    assert k["sales"]["product_ranking"] == [] and k["sales"]["target_attainment"] == []
    assert k["service"]["sla_attainment"] is None and k["service"]["volume_by_type"] == {}
    assert k["service"]["csat_avg"] is None and k["service"]["fcr_rate"] is None


def test_bad_filters_and_periods(crm, world) -> None:
    for text in ("2026-Q5", "2026-13", "26", "last quarter", "2200"):
        with pytest.raises(ValidationFailed):
            parse_period(text, crm.tz)
    with pytest.raises(ValidationFailed) as bad:
        kpis(crm, world["bh1"], KpiFilter(q3(crm).period, branch="XX99", rm="nobody"))
    assert {e.field for e in bad.value.errors} == {"branch", "rm"}


def test_crm_kpi_json_keys_and_targets_cli(tmp_path) -> None:
    import json

    from tests.cli_support import add_org, crm_cli, init_db

    db = init_db(tmp_path / "crm.db")
    add_org(db)
    r = crm_cli("targets", "set", "2026-Q3", "2,000,000", "--rm", "rm1", "--db", str(db))
    assert r.code == 0, r.err
    bad = crm_cli("targets", "set", "2026-Q9", "-5", "--rm", "rm1", "--db", str(db))
    assert bad.code != 0 and "Traceback" not in bad.err and len(bad.err.strip().splitlines()) == 1
    r = crm_cli("kpi", "--period", "2026-Q3", "--json", "--db", str(db))
    assert r.code == 0, r.err
    k = json.loads(r.out)
    assert set(k) == {"sales", "value", "service", "period", "scope"}
    assert set(k["sales"]) == {"funnel", "close_cycle_days_avg", "aum_per_customer",
                               "product_ranking", "target_attainment"}
    assert set(k["value"]) == {"aum_pyramid", "ltv_avg", "churn_rate", "churn_reasons",
                               "interactions_per_customer", "trades_per_customer",
                               "cross_sell_rate"}
    assert set(k["service"]) == {"first_response_minutes_avg", "resolution_hours_avg",
                                 "sla_attainment", "volume_by_type", "csat_avg", "fcr_rate"}
    assert k["period"] == {"start": "2026-06-30T16:00:00+00:00", "end": "2026-09-30T16:00:00+00:00"}
    assert k["sales"]["target_attainment"] == [
        {"who": "rm1", "target": "2000000.00", "actual": "0.00", "ratio": 0.0}]
    assert crm_cli("kpi", "--period", "2026-Q3", "--db", str(db)).code == 0
    wrong = crm_cli("kpi", "--period", "Q3", "--db", str(db))
    assert wrong.code != 0 and "2026-Q3" in wrong.err


def test_drill_down_lists_the_records_behind_a_figure_in_scope(crm, world) -> None:
    from crm_tui.domain.reporting.drill import drill

    ids = build(crm, world)
    f = q3(crm)
    assert [r.id for r in drill(crm, world["bh1"], f, "aum_pyramid", "private")] == [ids["A"]]
    assert [r.id for r in drill(crm, world["bh1"], f, "churn_rate")] == [ids["E"]]
    assert [r.id for r in drill(crm, world["bh1"], f, "cross_sell_rate")] == [ids["A"]]
    needs = drill(crm, world["bh1"], f, "funnel", "needs")
    assert sorted(r.customer_id for r in needs) == sorted([ids["A"], ids["B"], ids["D"]])
    assert [r.customer_id for r in drill(crm, world["bh1"], f, "volume_by_type", "complaint")] == [ids["B"]]
    # rm1 never sees D (rm3's) nor F (Shanghai)
    mine = drill(crm, world["rm1"], f, "aum_per_customer")
    assert {r.id for r in mine} == {ids["A"], ids["B"]}
    page = drill(crm, world["bh1"], f, "aum_per_customer", limit=2)
    rest = drill(crm, world["bh1"], f, "aum_per_customer", after_id=page[-1].id)
    assert len(page) + len(rest) == 4


def test_forecast_uses_historical_stage_to_won_chances(crm, world) -> None:
    from crm_tui.domain.reporting.forecast import forecast

    build(crm, world)
    # forecast Q4 from everything before 1 October: O1 won after passing every stage;
    # needs seen by O1..O4 (1 won of 4); matching O1..O3 (1 of 3); proposal O1, O3 (1 of 2);
    # closing O1 (1 of 1). Open now: O2 matching 1,000,000; O3 proposal 1,000,000; O4 needs.
    fc = forecast(crm, world["bh1"], KpiFilter(parse_period("2026-Q4", crm.tz)))
    by = {s.stage: s for s in fc.stages}
    assert (by["needs"].seen, by["needs"].won, by["needs"].chance) == (4, 1, 0.25)
    assert (by["matching"].seen, by["matching"].chance) == (3, 0.3333)
    assert (by["proposal"].chance, by["closing"].chance) == (0.5, 1.0)
    assert by["proposal"].open_amount == "1000000.00" and by["proposal"].expected == "500000.00"
    # 1,000,000 × 0.25 + 1,000,000 × 0.3333 + 1,000,000 × 0.5 = 1,083,300
    assert fc.expected == "1083300.00"

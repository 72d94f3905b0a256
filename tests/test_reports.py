"""The report engine's figures on a small hand-built book (tests/report_support.py), worked
out by hand in the comments, on SQLite and PostgreSQL; scope; custom fields as dimensions,
filters and measures; months cut in the display zone."""

from __future__ import annotations

from decimal import Decimal

from crm_tui.domain.reporting.report_definitions import parse_definition
from crm_tui.domain.reporting.reports import run_report
from tests.report_support import build_book


def report(entity: str, dims: list[str], measures: list, **extra) -> object:
    return parse_definition({"name": "t", "title_zh": "测试", "title_en": "test", "entity": entity,
                             "dimensions": dims, "measures": measures, **extra})


def table(result) -> list[tuple]:
    return [tuple(r) for r in result.rows]


def test_customers_by_tier_for_the_branch_head(crm, world) -> None:
    build_book(crm, world)
    active = {"fn": "rate", "key": "active", "when": [{"field": "status", "value": "active"}]}
    d = report("customers", ["tier"], ["count", "sum:aum", "avg:aum", active], sort="-sum_aum")
    r = run_report(crm, world["bh1"], d)
    # BJ01: A private; B hnw; C affluent (dormant); D and E mass. F is SH01, G restricted.
    assert [c.key for c in r.columns] == ["tier", "count", "sum_aum", "avg_aum", "active"]
    assert table(r) == [
        ("private", 1, Decimal("40000000.00"), Decimal("40000000.00"), 1.0),
        ("hnw", 1, Decimal("7000000.00"), Decimal("7000000.00"), 1.0),
        ("affluent", 1, Decimal("1000000.50"), Decimal("1000000.50"), 0.0),
        ("mass", 2, Decimal("100000.00"), Decimal("50000.00"), 1.0)]   # (100,000 + 0) / 2
    assert not r.truncated and r.scope["book"] == "branch"


def test_scope_rm_supervisor_other_branch_and_bank(crm, world) -> None:
    build_book(crm, world)
    d = report("customers", [], ["count", "sum:aum"])
    assert table(run_report(crm, world["rm1"], d)) == [(3, Decimal("47000000.00"))]  # A B E
    # team 财富一组 (rm1, rm2, sup1): A B C E; G (rm2's) is restricted
    assert table(run_report(crm, world["sup1"], d)) == [(4, Decimal("48000000.50"))]
    assert table(run_report(crm, world["bh_sh"], d)) == [(1, Decimal("500000.00"))]  # F
    # compliance sees every branch, still without G
    assert table(run_report(crm, world["comp1"], d)) == [(6, Decimal("48600000.50"))]


def test_won_amount_by_category_per_month_in_shanghai_time(crm, world) -> None:
    build_book(crm, world)
    d = report("opportunities", ["product_category", "closed_at:month"], ["count", "sum:amount"],
               filters=[{"field": "stage", "value": "won"}])
    # O1 fund August; O2 deposit closed 00:30 on 1 Sept Shanghai (31 Aug UTC) -> September
    assert [(c, m.isoformat(), n, s) for c, m, n, s in table(run_report(crm, world["bh1"], d))] == [
        ("deposit", "2026-09-01", 1, Decimal("500000.00")),
        ("fund", "2026-08-01", 1, Decimal("1000000.00"))]
    # the whole bank adds O5 (SH01, July); O6 is a restricted customer's and stays out
    bank = table(run_report(crm, world["comp1"], d))
    assert [(c, m.strftime("%Y-%m"), s) for c, m, _, s in bank] == [
        ("deposit", "2026-09", Decimal("500000.00")), ("fund", "2026-07", Decimal("800000.00")),
        ("fund", "2026-08", Decimal("1000000.00"))]
    q = report("opportunities", ["closed_at:quarter", "closed_at:year"], ["count"],
               filters=[{"field": "closed_at", "op": "between", "value": ["2026-07-01", "2026-09-01"]}])
    # O1, O2 (1 Sept counts: between includes the last day), O3 lost in July
    assert table(run_report(crm, world["bh1"], q)) == [("2026-Q3", 2026, 3)]


def test_tickets_by_type_and_priority(crm, world) -> None:
    build_book(crm, world)
    breached = {"fn": "rate", "when": [{"field": "breached", "value": True}]}
    d = report("tickets", ["type", "priority"], ["count", "avg:resolution_hours", breached])
    # BJ01: T1 inquiry/normal 4 h; T3 inquiry/normal open; T2 complaint/high 48 h, breached
    assert table(run_report(crm, world["bh1"], d)) == [
        ("complaint", "high", 1, 48.0, 1.0), ("inquiry", "normal", 2, 4.0, 0.0)]
    # rate among resolved only: `of` narrows the denominator
    on_time = {"fn": "rate", "key": "on_time", "when": [{"field": "breached", "value": False}],
               "of": [{"field": "resolved_at", "op": "not_null"}]}
    r = run_report(crm, world["bh1"], report("tickets", [], [on_time, "sum:resolution_hours"]))
    assert table(r) == [(0.5, 52.0)]  # T1 on time of T1, T2


def test_custom_fields_as_dimension_filter_and_measure(crm, world) -> None:
    build_book(crm, world)
    d = report("customers", ["custom.segment"], ["count", "sum:custom.score", "avg:custom.score"])
    # BJ01: retail A B E (1.25 + 2.50; E has no score) ; sme C 0.10 ; D no segment
    assert table(run_report(crm, world["bh1"], d)) == [
        ("retail", 3, Decimal("3.75"), Decimal("1.88")), ("sme", 1, Decimal("0.1"), Decimal("0.10")),
        (None, 1, None, None)]
    only = report("customers", [], ["count"], filters=[
        {"field": "custom.segment", "value": "retail"},
        {"field": "custom.score", "op": "gte", "value": 2}])
    assert table(run_report(crm, world["bh1"], only)) == [(1,)]  # B


def test_leads_trades_and_holdings(crm, world) -> None:
    build_book(crm, world)
    leads = report("leads", ["source"], ["count", "sum:estimated_assets"])
    assert table(run_report(crm, world["rm1"], leads)) == [
        ("referral", 1, Decimal("3000000.00")), ("web", 1, Decimal("200000.00"))]
    # a branch head sees the branch's, the unassigned one included
    assert sum(r[1] for r in run_report(crm, world["bh1"], leads).rows) == 4
    trades = report("trades", ["kind", "occurred_at:month"], ["sum:amount"],
                    filters=[{"field": "occurred_at", "op": "gte", "value": "2026-08-01"}])
    assert [(k, m.strftime("%Y-%m"), s) for k, m, s in table(run_report(crm, world["bh1"], trades))] == [
        ("redemption", "2026-09", Decimal("100000.00")),
        ("subscription", "2026-08", Decimal("1000000.00")),
        ("subscription", "2026-09", Decimal("500000.00"))]  # G's 7M: restricted


def test_limit_sort_and_an_empty_result(crm, world) -> None:
    build_book(crm, world)
    top = report("customers", ["rm_username"], ["sum:aum"], sort="-sum_aum", limit=1)
    assert table(run_report(crm, world["bh1"], top)) == [("rm1", Decimal("47000000.00"))]
    none = report("customers", ["tier"], ["count"],
                  filters=[{"field": "aum", "op": "gt", "value": "1000000000000"}])
    assert table(run_report(crm, world["bh1"], none)) == []


def test_holdings_by_category_and_a_lead_of_a_restricted_customer(crm, world) -> None:
    from sqlalchemy import select, update

    from crm_tui.store.models import Holding, Product
    from crm_tui.store.models_sales import Lead

    ids = build_book(crm, world)
    with crm.db.write() as s:
        fund = s.scalars(select(Product).where(Product.code == "P1")).one()
        deposit = s.scalars(select(Product).where(Product.code == "P2")).one()
        for cust, product, fen, units in (("A", fund, 300_000_00, 1), ("A", deposit, 50_000_00, 1),
                                          ("B", fund, 100_000_00, 1), ("C", fund, 0, 0),  # emptied
                                          ("G", fund, 900_000_00, 1)):  # restricted
            s.add(Holding(customer_id=ids[cust], product_id=product.id, amount_fen=fen, units_e4=units))
        s.execute(update(Lead).where(Lead.id == ids["L3"]).values(customer_id=ids["G"]))
    d = report("holdings", ["product_category"], ["count", "sum:cost"])
    # BJ01: fund A + B (C's is emptied, G's restricted), deposit A
    assert table(run_report(crm, world["bh1"], d)) == [
        ("deposit", 1, Decimal("50000.00")), ("fund", 2, Decimal("400000.00"))]
    # L3 now belongs to restricted G: it leaves the branch head's lead report
    leads = report("leads", [], ["count"])
    assert table(run_report(crm, world["bh1"], leads)) == [(3,)]

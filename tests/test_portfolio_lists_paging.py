"""The portfolio work lists read the book in windows of customer ids and chunks; whatever
the window and chunk, the pages together are the whole list, once, in keyset order, and a
supervisor's list is her team's customers only."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from crm_tui.domain.products import lists
from crm_tui.store.models import Holding, Product
from tests.compliance_world import add_customer

TODAY = date(2026, 12, 1)


def _book(crm, world) -> dict[str, int]:
    """Six C1 customers (rm1, rm2 of team 1; rm3 elsewhere) each holding an R3 fund (above
    C1's level) and a deposit maturing in 10 days; the deposit is all cash, so every one of
    them is out of the C1 model's band too."""
    people = {}
    for n, rm in enumerate(("rm1", "rm2", "rm3", "rm1", "rm2", "rm1")):
        people[f"c{n}"] = add_customer(crm, world, rm, f"客户{n}", "C1",
                                       f"1101011980010110{n}")
    with crm.db.write() as s:
        fund = Product(code="FUND", name="基金", category="fund", risk_level="R3",
                       asset_class="equity")
        dep = Product(code="DEP", name="存单", category="deposit", risk_level="R1",
                      asset_class="cash", maturity_date=TODAY + timedelta(days=10))
        s.add_all([fund, dep])
        s.flush()
        for cid in people.values():
            s.add(Holding(customer_id=cid, product_id=fund.id, units_e4=10_000_0000,
                          amount_fen=1_000_000))
            s.add(Holding(customer_id=cid, product_id=dep.id, units_e4=10_000_0000,
                          amount_fen=1_000_000))
    return people


def _all_pages(crm, actor, kind: str, limit: int) -> list:
    rows, after = [], lists.FIRST[kind]
    for _ in range(50):
        page = lists.PAGERS[kind](crm, actor, after=after, limit=limit, today=TODAY)
        rows += page.rows
        if page.after is None:
            return rows
        after = page.after
    raise AssertionError("the pages never ended")


@pytest.mark.parametrize("kind", lists.LISTS)
def test_pages_cover_the_list_once_whatever_the_window(crm, world, monkeypatch, kind) -> None:
    people = _book(crm, world)
    whole = _all_pages(crm, world["sup1"], kind, limit=100)
    team = {people[c] for c in ("c0", "c1", "c3", "c4", "c5")}  # rm3's c2 is not the team's
    assert {r.customer_id for r in whole} == team
    monkeypatch.setattr(lists, "WINDOW", 2)
    monkeypatch.setattr(lists, "CHUNK", 1)
    monkeypatch.setattr(lists, "HOLDING_CHUNK", 2)
    paged = _all_pages(crm, world["sup1"], kind, limit=2)
    assert paged == whole
    rm1 = {people[c] for c in ("c0", "c3", "c5")}
    assert {r.customer_id for r in _all_pages(crm, world["rm1"], kind, limit=1)} == rm1

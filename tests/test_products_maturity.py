"""Maturity reminders: a task per holding and window for the RM, with the amount and a
suitable shortlist; running the job twice makes nothing twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from crm_tui.domain.workflow.jobs import run_all
from crm_tui.store.models import Holding, Product
from crm_tui.store.models_workflow import Task
from tests.compliance_world import add_customer


def _product(s, code, risk="R2", *, matures_in=None, today, min_yuan=0, ret=None, ac="fixed_income"):
    p = Product(code=code, name=f"理财{code}", category="wealth", risk_level=risk, asset_class=ac,
                maturity_date=today + timedelta(days=matures_in) if matures_in else None,
                min_amount_fen=min_yuan * 100, expected_return_high_bp=ret)
    s.add(p)
    s.flush()
    return p.id


def test_maturity_tasks_are_idempotent_and_carry_a_suitable_shortlist(crm, world):
    now = datetime.now(crm.tz).replace(hour=10, minute=0, second=0, microsecond=0)
    today = now.date()
    cid = add_customer(crm, world, "rm1", "孙到期", "C3", "11010119800101021")
    with crm.db.write() as s:
        soon = _product(s, "M5", matures_in=5, today=today)
        mid = _product(s, "M20", matures_in=20, today=today)
        late = _product(s, "M45", matures_in=45, today=today)
        far = _product(s, "M90", matures_in=90, today=today)
        _product(s, "R2OPEN", today=today, ret=400)  # suitable, open-ended
        _product(s, "R4HIGH", "R4", today=today, ret=900)  # C3 × R4 needs approval: not listed
        _product(s, "BIGMIN", today=today, min_yuan=10_000_000, ret=800)  # minimum too high
        _product(s, "EQ1", "R3", today=today, ret=300, ac="equity")  # another class: after
        _product(s, "M10", matures_in=10, today=today, ret=700)  # matures before M5 + 7 days
        for pid in (soon, mid, late, far):
            s.add(Holding(customer_id=cid, product_id=pid, units_e4=500_000_000, amount_fen=5_000_000))
    assert run_all(crm, now)["maturity_tasks"] == 3
    assert run_all(crm, now)["maturity_tasks"] == 0
    with crm.db.read() as s:
        tasks = {t.params["product"]: t for t in s.scalars(select(Task).where(Task.kind == "maturity"))}
    assert set(tasks) == {"M5", "M20", "M45"}
    t5 = tasks["M5"]
    assert t5.owner_id == world["rm1"].id and t5.customer_id == cid
    assert (t5.params["window"], t5.params["days"], t5.params["amount"]) == (7, 5, "50,000.00")
    # best benchmark first, same asset class first; M10 matures within a week of M5, R4HIGH
    # needs approval at C3, BIGMIN asks more than the 50,000 maturing
    assert t5.params["shortlist"] == ["R2OPEN", "M20", "M45"]  # then codes; EQ1 after them
    assert tasks["M20"].params["window"] == 30 and tasks["M45"].params["window"] == 60
    # sixteen days on, M20 is 4 days away: the 7-day reminder comes, once
    later = now + timedelta(days=16)
    assert run_all(crm, later)["maturity_tasks"] == 2  # M20 at 7 days, M45 (29 days) at 30
    assert run_all(crm, later)["maturity_tasks"] == 0
    with crm.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Task).where(Task.kind == "maturity")) == 5


def test_maturing_list_is_keyset_paged_soonest_first(crm, world):
    from crm_tui.domain.products import lists

    today = datetime.now(crm.tz).date()
    cid = add_customer(crm, world, "rm1", "孙到期", "C3", "11010119800101021")
    with crm.db.write() as s:
        for days in (50, 3, 20, 90):
            pid = _product(s, f"D{days}", matures_in=days, today=today)
            s.add(Holding(customer_id=cid, product_id=pid, units_e4=10_000, amount_fen=100))
    one = lists.maturing(crm, world["rm1"], limit=2, today=today)
    assert [r.product_code for r in one.rows] == ["D3", "D20"]
    two = lists.maturing(crm, world["rm1"], after=one.after, limit=2, today=today)
    assert [r.product_code for r in two.rows] == ["D50"]  # D90 is past 60 days
    assert lists.maturing(crm, world["rm_sh"], today=today).rows == ()

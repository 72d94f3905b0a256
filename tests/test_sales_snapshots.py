"""SVG snapshot of the pipeline board at 120×40 in Chinese, on a fixed clock: cards in
needs (one from a breached lead), matching, proposal and closing, a won and a lost deal.

Update with `pytest tests/test_sales_snapshots.py --snapshot-update`, after looking at it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from crm_tui import i18n
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.sales import opportunities, proposals
from crm_tui.domain.sales.questionnaires import submit_needs
from crm_tui.store.models_sales import Lead, Opportunity
from tests.compliance_world import add_customer
from tests.conftest import World
from tests.sales_support import add_product
from tests.test_sales_pipeline import NEEDS
from tests.tui_support import settle, signed_in_app

SIZE = (120, 40)
CLOCK = datetime(2025, 6, 16, 4, 30, tzinfo=UTC)
Compare = Callable[..., bool]


@pytest.fixture
def chinese() -> Iterator[None]:
    i18n.set_language("zh_CN")
    yield
    i18n.set_language("en")


def _board(crm: Crm, world: World) -> None:
    rm = world["rm1"]
    add_product(crm, "WM0002", "R2", name="安享稳健六个月持有期理财")
    names = ("王建国", "李秀英", "张伟", "刘洋洋", "陈静怡", "杨帆")
    ids = [add_customer(crm, world, "rm1", n, level="C3", id_prefix=f"1101011980010100{i}")
           for i, n in enumerate(names)]
    opps = [opportunities.create_opportunity(crm, rm, c) for c in ids]
    for cid in ids[1:]:
        submit_needs(crm, rm, cid, NEEDS)
    for oid in opps[1:]:
        opportunities.move(crm, rm, oid, "matching")
    for oid, amount in zip(opps[2:], ("800000", "1500000", "300000", "50000"), strict=True):
        opportunities.choose_product(crm, rm, oid, "WM0002", amount)
        opportunities.move(crm, rm, oid, "proposal")
    for oid in opps[3:5]:
        proposals.make_proposal(crm, rm, oid)
        opportunities.move(crm, rm, opps[3] if oid == opps[3] else oid, "closing")
    opportunities.move(crm, rm, opps[5], "lost", reason="competitor")
    with crm.db.write() as s:
        lead = Lead(source="web", name=names[0], branch_id=rm.branch_id, owner_id=rm.id,
                    status="assigned", created_at=CLOCK - timedelta(days=2),
                    first_contact_due=CLOCK - timedelta(days=1),
                    breached_at=CLOCK - timedelta(hours=20))
        s.add(lead)
        s.flush()
        s.execute(update(Opportunity).where(Opportunity.id == opps[0]).values(lead_id=lead.id))
        for i, oid in enumerate(opps):  # fixed ages in stage
            at = CLOCK - timedelta(days=i, hours=3 * i + 1)
            s.execute(update(Opportunity).where(Opportunity.id == oid).values(
                stage_entered_at=at, created_at=at))


def test_pipeline_board(snap_compare: Compare, sqlite_crm: Crm, sqlite_world: World,
                        chinese: None, monkeypatch: pytest.MonkeyPatch) -> None:
    _board(sqlite_crm, sqlite_world)
    monkeypatch.setattr("crm_tui.domain.sales.board.utcnow", lambda: CLOCK)

    async def open_board(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)

    assert snap_compare(signed_in_app(sqlite_crm, sqlite_world), terminal_size=SIZE,
                        run_before=open_board)

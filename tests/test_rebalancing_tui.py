"""The profile's allocation tab turns the rebalancing suggestion into a proposal with `g`:
the key is offered with a purchase to propose, the message line names the new opportunity,
the database holds it with the suggested purchases as lines; pressed again, it says one
is already open and makes nothing."""

from __future__ import annotations

from sqlalchemy import select

from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.sales.questionnaires import submit_needs
from crm_tui.screens.profile import ProfileScreen
from crm_tui.store.models import Product
from crm_tui.store.models_sales import Opportunity, OpportunityLine
from tests.conftest import World
from tests.sales_support import T0
from tests.test_products_allocation import _book
from tests.test_sales_pipeline import NEEDS
from tests.tui_support import screen_text, settle, signed_in_app


async def test_allocation_tab_makes_a_proposal(sqlite_crm: Crm, sqlite_world: World):
    cid = _book(sqlite_crm, sqlite_world)
    submit_needs(sqlite_crm, sqlite_world["rm1"], cid, NEEDS, now=T0)
    app = signed_in_app(sqlite_crm, sqlite_world)
    async with app.run_test(size=(140, 44)) as pilot:
        app.open_customer(cid)
        await settle(pilot)
        assert isinstance(app.screen, ProfileScreen)
        hidden = app.screen.active_bindings.get("g")  # not offered outside the allocation tab
        assert hidden is None or not hidden.enabled
        await pilot.press("5")
        await settle(pilot)
        binding = app.screen.active_bindings.get("g")
        assert binding is not None and binding.enabled
        assert binding.binding.description == "Make a proposal"
        await pilot.press("g")
        await settle(pilot)
        with sqlite_crm.db.read() as s:
            [opp] = s.scalars(select(Opportunity).where(Opportunity.customer_id == cid)).all()
            lines = s.execute(select(Product.code, OpportunityLine.amount_fen)
                              .join(Product, Product.id == OpportunityLine.product_id)
                              .where(OpportunityLine.opportunity_id == opp.id)
                              .order_by(OpportunityLine.position)).all()
        assert opp.stage == "proposal" and opp.custom["_source"] == "rebalancing"
        assert [tuple(r) for r in lines] == [("F1", 1_500_000), ("I2", 800_000)]
        text = screen_text(app)
        assert f"Opportunity #{opp.id} opened at the proposal stage" in text
        assert "23,000.00 CNY" in text
        await pilot.press("g")
        await settle(pilot)
        assert f"A rebalancing opportunity (#{opp.id}) is already open" in screen_text(app)
        with sqlite_crm.db.read() as s:
            assert len(s.scalars(select(Opportunity.id).where(
                Opportunity.customer_id == cid)).all()) == 1

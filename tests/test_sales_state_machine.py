"""Random walks over the opportunity stages (moves to any stage, product choices, needs,
two-line proposals, KYC lapsing and coming back, compliance approving or rejecting the close),
checked against the database after every step: no won deal without every check.

Invariants: a won opportunity has a needs questionnaire, a proposal, suitable products
(one line or several), a close request approved at every level by someone other than the
maker, and a subscription per line (executed, or waiting on its own chain); the stage history is a connected
path that only enters won from closing; moves the oracle refuses are refused.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import func, select, update
from sqlmodel import SQLModel

from crm_tui.domain.compliance import approvals
from crm_tui.domain.kernel.errors import DomainError
from crm_tui.domain.sales import opportunities, proposals
from crm_tui.domain.sales.lines import lines_of, set_lines
from crm_tui.domain.sales.questionnaires import submit_needs
from crm_tui.store.db import Database
from crm_tui.store.models import KycDocument, Staff, Trade
from crm_tui.store.models_compliance import ApprovalDecision, ApprovalRequest
from crm_tui.store.models_sales import Opportunity, OpportunityProposal, OpportunityStageEvent
from tests.compliance_world import add_customer
from tests.conftest import build_world, make_crm
from tests.sales_support import add_product
from tests.test_sales_pipeline import NEEDS

PRODUCTS = {"OK-R2": "R2", "OV-R4": "R4", "NO-R5": "R5"}


class StageMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self) -> None:
        root = Path(tempfile.mkdtemp(prefix="crm-stage-"))
        db = Database(f"sqlite:///{root / 'crm.db'}")
        SQLModel.metadata.create_all(db.write_engine)
        self.crm = make_crm(db, root)
        self.world = build_world(self.crm)
        with self.crm.db.write() as s:
            s.add(Staff(username="comp2", display_name="合规二", role="compliance",
                        branch_id=self.world.branches["BJ01"]))
        self.cid = add_customer(self.crm, self.world, "rm1", "钱多多", level="C3")
        for code, risk in PRODUCTS.items():
            add_product(self.crm, code, risk)
        self.oid = opportunities.create_opportunity(self.crm, self.world["rm1"], self.cid)
        self.has_needs = False
        self.kyc_ok = True

    def _opp(self) -> Opportunity:
        with self.crm.db.read() as s:
            return s.get(Opportunity, self.oid)

    @rule()
    def needs(self) -> None:
        submit_needs(self.crm, self.world["rm1"], self.cid, NEEDS)
        self.has_needs = True

    @rule(code=st.sampled_from(sorted(PRODUCTS)))
    def choose(self, code: str) -> None:
        try:
            opportunities.choose_product(self.crm, self.world["rm1"], self.oid, code, "50000")
        except DomainError:
            assert self._opp().stage not in ("matching", "proposal")

    @rule(extra=st.sampled_from(sorted(PRODUCTS)))
    def two_lines(self, extra: str) -> None:
        """Two product lines; a line suitability blocks (an R5 product, or any product while
        the KYC file has lapsed) refuses the whole set."""
        try:
            set_lines(self.crm, self.world["rm1"], self.oid, [("OK-R2", "50000"), (extra, "50000")])
        except DomainError:
            assert (self._opp().stage not in ("matching", "proposal") or PRODUCTS[extra] == "R5"
                    or not self.kyc_ok)
        else:
            assert PRODUCTS[extra] != "R5" and self.kyc_ok

    @rule()
    def proposal(self) -> None:
        try:
            proposals.make_proposal(self.crm, self.world["rm1"], self.oid)
        except DomainError:
            assert self._opp().stage != "proposal"

    @rule(to=st.sampled_from(opportunities.STAGES), reason=st.sampled_from(("other", "bad")))
    def move(self, to: str, reason: str) -> None:
        before = self._opp()
        try:
            opportunities.move(self.crm, self.world["rm1"], self.oid, to, reason=reason)
        except DomainError:
            assert self._opp().stage == before.stage
            return
        assert to in opportunities.ALLOWED[before.stage] and to != "won"
        if to in ("matching", "proposal", "closing") and opportunities.STAGES.index(to) > \
                opportunities.STAGES.index(before.stage):
            assert self.has_needs
        if to == "closing":
            assert self.kyc_ok and all(PRODUCTS[c] != "R5" for c in self._codes(before))
        if to == "lost":
            assert reason == "other"

    def _code(self, opp: Opportunity) -> str:
        return {v: k for k, v in self._product_ids().items()}[opp.product_id]

    def _codes(self, opp: Opportunity) -> list[str]:
        with self.crm.db.read() as s:
            return [line.product.code for line in lines_of(s, opp)]

    def _product_ids(self) -> dict[str, int]:
        from crm_tui.store.models import Product

        with self.crm.db.read() as s:
            return dict(s.execute(select(Product.code, Product.id)).all())  # type: ignore[arg-type]

    @rule(code=st.sampled_from(("OK-R2", "OV-R4")), n=st.integers(1, 3))
    def advance(self, code: str, n: int) -> None:
        """Steer toward a win: the natural next steps, through the same checked paths."""
        for _ in range(n):
            stage = self._opp().stage
            if stage == "needs":
                if not self.has_needs:
                    self.needs()
                self.move("matching", "other")
            elif stage == "matching":
                self.choose(code)
                self.move("proposal", "other")
            elif stage == "proposal":
                self.proposal()
                self.move("closing", "other")
            elif stage == "closing":
                self.decide("comp1", True)
                self.decide("comp2", True)

    @rule(ok=st.booleans())
    def kyc(self, ok: bool) -> None:
        exp = self.today() + (timedelta(days=900) if ok else timedelta(days=-1))
        with self.crm.db.write() as s:
            s.execute(update(KycDocument).where(KycDocument.customer_id == self.cid)
                      .values(expires_on=exp))
        self.kyc_ok = ok

    def today(self):  # type: ignore[no-untyped-def]
        from datetime import date

        return date.today()

    @rule(who=st.sampled_from(("comp1", "comp2", "rm1", "sup1")), approve=st.booleans())
    def decide(self, who: str, approve: bool) -> None:
        opp = self._opp()
        if opp.close_request_id is None:
            return
        actor = self.world[who] if who != "comp2" else self._comp2()
        try:
            if approve:
                approvals.approve(self.crm, actor, opp.close_request_id, "ok")
            else:
                approvals.reject(self.crm, actor, opp.close_request_id, "不同意")
        except DomainError:
            return
        if approve and self._opp().stage == "won":
            event("won")
            assert self.kyc_ok and who in ("comp1", "comp2")

    def _comp2(self):  # type: ignore[no-untyped-def]
        from crm_tui.domain.admin.auth import actor_of

        with self.crm.db.read() as s:
            return actor_of(s.scalars(select(Staff).where(Staff.username == "comp2")).one())

    @invariant()
    def no_won_deal_without_every_check(self) -> None:
        if not hasattr(self, "crm"):
            return
        opp = self._opp()
        with self.crm.db.read() as s:
            events = s.execute(select(OpportunityStageEvent.from_stage,
                                      OpportunityStageEvent.to_stage)
                               .where(OpportunityStageEvent.opportunity_id == self.oid)
                               .order_by(OpportunityStageEvent.id)).all()
            prev = None
            for frm, to in events:
                assert frm == prev
                assert to != "won" or frm == "closing"
                prev = to
            assert prev == opp.stage
            if opp.stage != "won":
                return
            req = s.get(ApprovalRequest, opp.close_request_id)
            assert req.status == "approved" and req.kind == "contract_close"
            deciders = s.execute(select(ApprovalDecision.decider_id).where(
                ApprovalDecision.request_id == req.id,
                ApprovalDecision.decision == "approved")).scalars().all()
            assert len(deciders) == req.levels_total == len(set(deciders))
            assert req.maker_id not in deciders
            assert s.scalar(select(func.count()).select_from(OpportunityProposal).where(
                OpportunityProposal.opportunity_id == self.oid))
            assert self.has_needs
            codes = [line.product.code for line in lines_of(s, opp)]
            assert codes and "NO-R5" not in codes
            refs = opp.result_ref.split(",")  # every line subscribed, or waiting on its chain
            assert len(refs) == len(codes)
            for ref in refs:
                kind, _, rid = ref.partition(":")
                assert (kind == "trade" and s.get(Trade, int(rid)) is not None) or (
                    kind == "request" and s.get(ApprovalRequest, int(rid)).kind == "large_transaction")

    def teardown(self) -> None:
        if hasattr(self, "crm"):
            self.crm.db.dispose()


StageMachine.TestCase.settings = settings(
    max_examples=12, stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])


class TestStageMachine(StageMachine.TestCase):  # type: ignore[name-defined]
    pass

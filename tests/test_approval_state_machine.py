"""Random sequences of make / approve / reject / withdraw / edit-the-target / expire by
random staff, against the approval engine on a small SQLite world.

Each step is checked against an oracle written independently here (who may decide what,
when a request is stale or expired), and after every step the invariants are read back
from the database:

- no request is approved (no decision row at all) by its maker;
- no level is decided by someone without that level's role or outside its scope;
- no person decides two levels of one request;
- no transaction executes without every level approved;
- no stale approval is applied (the oracle expects Stale whenever the target moved);
- every step has its audit event, and the audit chain verifies.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)
from sqlalchemy import func, select
from sqlmodel import SQLModel

from crm_tui.domain.compliance import approval_views, approvals
from crm_tui.domain.compliance.approvals import Expired, NotDecidable, Stale
from crm_tui.domain.compliance.sensitive_changes import request_change
from crm_tui.domain.customers.records import update_customer
from crm_tui.domain.kernel.actor import Actor, system_actor
from crm_tui.domain.kernel.audit import verify_chain
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import PermissionDenied, ValidationFailed
from crm_tui.domain.policy.document import activate_policy, default_policy_text
from crm_tui.domain.sales.transactions import record_transaction
from crm_tui.settings import Settings
from crm_tui.store.crypto import Keyring
from crm_tui.store.db import Database
from crm_tui.store.models import AuditEvent, Customer, Staff, Trade
from crm_tui.store.models_compliance import ApprovalDecision, ApprovalRequest
from crm_tui.store.types import utcnow
from tests.compliance_world import build_book
from tests.conftest import build_world, make_crm

DECIDERS = ("supervisor", "branch_head", "compliance", "risk")
# maker → customers in her book
MAKERS = {"rm1": ("c1", "c2"), "rm3": ("c3",), "sup1": ("c1", "c2"), "sup2": ("c3",),
          "bh1": ("c1", "c2", "c3"), "rm_sh": ("c_sh",)}
EDITOR = {"c1": "bh1", "c2": "bh1", "c3": "bh1", "c_sh": "bh_sh"}
LEVEL_OF = {"c1": "C3", "c2": "C1", "c3": "C5", "c_sh": "C3"}
# The top tier here asks two supervisors (the maker's team's, then any in her branch), so
# "one person decides at most one level" is put to the test, not guaranteed by roles.
TOP_TIER = ('levels = [{ role = "supervisor" }, { role = "branch_head" }, { role = "risk" }]',
            'levels = [{ role = "supervisor" }, { role = "supervisor", scope = "branch" },'
            ' { role = "risk" }]')
TIERS = {"100": (), "600000": ("supervisor",), "3000000": ("supervisor", "branch_head"),
         "12000000": ("supervisor", "supervisor", "risk")}
TIER_SCOPES = {"12000000": ("team", "branch", "any")}
SCOPE = {"supervisor": "team", "branch_head": "branch", "compliance": "any", "risk": "any"}
PHONES = ("13900000001", "13900000002", "13800138000")
STEER = st.sampled_from(("eligible", "eligible", "random", "maker", "previous"))
STAFF_NAMES = ("rm1", "rm2", "rm3", "sup1", "sup2", "bh1", "rm_sh", "sup_sh", "bh_sh", "comp1",
               "risk1", "svc1", "admin")


@dataclass
class Template:
    """A prepared database file, and one live store that each example resets from it
    (with SQLite's backup API). Reusing the live store's engines keeps SQLAlchemy's
    compiled-statement cache warm; a fresh engine per example made the run ten times
    slower."""

    path: Path
    live: Database
    keys: Keyring
    policy: object
    actors: dict[str, Actor]
    customers: dict[str, int]

    def reset(self) -> None:
        src = sqlite3.connect(self.path)
        dst = sqlite3.connect(self.live.sqlite_path or "")
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()


@cache
def template() -> Template:
    root = Path(tempfile.mkdtemp(prefix="crm-sm-"))
    db = Database(f"sqlite:///{root / 'template.db'}")
    SQLModel.metadata.create_all(db.write_engine)
    crm = make_crm(db, root)
    with db.write() as s:
        text = default_policy_text()
        assert TOP_TIER[0] in text
        activate_policy(db, s, system_actor("test"), text.replace(*TOP_TIER))
    crm.forget_policy()
    world = build_world(crm)
    book = build_book(crm, world)
    db.dispose()
    shutil.copy(root / "template.db", root / "live.db")
    live = Database(f"sqlite:///{root / 'live.db'}")
    return Template(root / "template.db", live, crm.keys, crm.policy(), world.actors,
                    book.customers)


@cache
def STAFF_PLACES() -> dict[int, tuple[str, int | None, int | None]]:  # noqa: N802
    """Staff never change during a run: id → (role, branch, team), read once."""
    with template().live.read() as s:
        return {r.id: (r.role, r.branch_id, r.team_id)
                for r in s.execute(select(Staff.id, Staff.role, Staff.branch_id, Staff.team_id))}


@dataclass
class Req:
    id: int
    kind: str  # sensitive | transaction
    maker: str
    customer: str
    version: int  # the customer's version when asked
    levels: tuple[str, ...]
    scopes: tuple[str, ...]  # per level; () = each role's default scope
    created: datetime
    phone: str = ""
    status: str = "pending"
    deciders: list[str] = field(default_factory=list)


class ApprovalMachine(RuleBasedStateMachine):
    requests = Bundle("requests")

    @initialize(target=requests, opening=st.lists(
        st.tuples(st.sampled_from(sorted(MAKERS)), st.integers(0, 2),
                  st.sampled_from(["600000", "3000000", "12000000"]), st.booleans()),
        min_size=1, max_size=3))
    def start(self, opening):
        """A fresh store, and a few requests already waiting, so that every example spends
        its steps deciding, editing and expiring rather than waiting for a first request."""
        self.setup()
        rids = [self.make_transaction_now(*args) for args in opening]
        return multiple(*[r for r in rids if r is not None])

    def setup(self) -> None:
        tpl = template()
        tpl.reset()
        db = tpl.live
        self.crm = Crm(db, tpl.keys, Settings(database_url=db.url), _policy=tpl.policy)  # type: ignore[arg-type]
        self.actors = tpl.actors
        self.cid = tpl.customers
        self.now = utcnow()
        self.reqs: dict[int, Req] = {}
        self.version = {label: 1 for label in self.cid}  # every customer starts at version 1
        self.phone = {label: "13800138000" for label in self.cid}
        self.trades = 0
        self.dirty = True
        self.hours = self.crm.policy().approvals.request_expiry_hours

    # -- oracle ---------------------------------------------------------------------------

    def _why_not(self, r: Req, who: str) -> type[Exception] | None:
        a = self.actors[who]
        if a.role not in DECIDERS:
            return PermissionDenied
        if r.status != "pending" or who == r.maker or len(r.deciders) >= len(r.levels):
            return NotDecidable
        level = len(r.deciders)
        role = r.levels[level]
        maker = self.actors[r.maker]
        scope = r.scopes[level] if r.scopes else SCOPE[role]
        in_scope = (scope == "any" or (scope == "branch" and a.branch_id == maker.branch_id)
                    or (scope == "team" and a.team_id is not None
                        and a.team_id == maker.team_id))
        if a.role != role or not in_scope or who in r.deciders:
            return NotDecidable
        return None

    def _expired(self, r: Req) -> bool:
        return self.now >= r.created + timedelta(hours=self.hours)

    # -- making -----------------------------------------------------------------------------

    @rule(target=requests, maker=st.sampled_from(sorted(MAKERS)), pick=st.integers(0, 2),
          phone=st.sampled_from(PHONES))
    def make_sensitive(self, maker, pick, phone):
        label = MAKERS[maker][pick % len(MAKERS[maker])]
        pending = any(r.customer == label and r.kind == "sensitive" and r.status == "pending"
                          for r in self.reqs.values())
        try:
            rid = request_change(self.crm, self.actors[maker], self.cid[label], "phone", phone,
                                 now=self.now, reason="来电")
        except ValidationFailed:
            assert phone == self.phone[label] or pending
            return multiple()
        assert phone != self.phone[label] and not pending
        self.reqs[rid] = Req(rid, "sensitive", maker, label, self.version[label], ("supervisor",),
                             (), self.now, phone=phone)
        return rid

    @rule(target=requests, maker=st.sampled_from(sorted(MAKERS)), pick=st.integers(0, 2),
          amount=st.sampled_from(sorted(TIERS)), sale=st.booleans())
    def make_transaction(self, maker, pick, amount, sale):
        rid = self.make_transaction_now(maker, pick, amount, sale)
        return multiple() if rid is None else rid

    def make_transaction_now(self, maker, pick, amount, sale) -> int | None:
        label = MAKERS[maker][pick % len(MAKERS[maker])]
        override: tuple[str, ...] = ()
        if sale:
            level = LEVEL_OF[label]
            if level == "C1":  # C1 × R4 is blocked outright
                try:
                    record_transaction(self.crm, self.actors[maker], self.cid[label],
                                       "subscription", amount, product_code="P-R4", now=self.now)
                except Exception as exc:  # noqa: BLE001 - asserting the kind below
                    assert type(exc).__name__ == "Blocked"
                    return None
                raise AssertionError("an unsuitable sale went through")
            override = ("compliance",) if level == "C3" else ()
        out = record_transaction(self.crm, self.actors[maker], self.cid[label],
                                 "subscription" if sale else "transfer", amount,
                                 product_code="P-R4" if sale else None, now=self.now)
        levels = override + TIERS[amount]
        assert out.levels == levels
        if not levels:
            assert out.status == "executed"
            self.trades += 1
            return None
        assert out.status == "pending_approval" and out.request_id
        self.reqs[out.request_id] = Req(out.request_id, "transaction", maker, label,
                                        self.version[label], levels,
                                        (("any",) * len(override) + TIER_SCOPES[amount])
                                        if amount in TIER_SCOPES else (), self.now)
        return out.request_id

    # -- deciding ---------------------------------------------------------------------------

    def _apply(self, r: Req) -> None:
        r.status = "approved"
        if r.kind == "sensitive":
            self.version[r.customer] += 1
            self.phone[r.customer] = r.phone
        else:
            self.trades += 1

    def _pick(self, r: Req, who: str, steer: str) -> str:
        """Steer the decider: someone the oracle says may decide (so long chains, stale
        targets and expiry are reached), the maker herself, or the person who decided the
        previous level; else the random one drawn."""
        if steer == "eligible":
            for name in STAFF_NAMES:
                if self._why_not(r, name) is None:
                    return name
        if steer == "maker":
            return r.maker
        if steer == "previous" and r.deciders:
            return r.deciders[-1]
        return who

    @rule(rid=requests, who=st.sampled_from(STAFF_NAMES), steer=STEER)
    def approve(self, rid, who, steer):
        r = self.reqs[rid]
        who = self._pick(r, who, steer)
        expected = self._why_not(r, who)
        if expected is None and self._expired(r):
            expected = Expired
        elif expected is None and self.version[r.customer] != r.version:
            expected = Stale
        try:
            approvals.approve(self.crm, self.actors[who], rid, now=self.now)
        except (PermissionDenied, NotDecidable, Expired, Stale) as exc:
            assert type(exc) is expected, (type(exc), expected)
            if expected is Expired:
                r.status = "expired"
            elif expected is Stale:
                r.status = "stale"
            else:
                self.dirty = False  # a refusal writes nothing; the next check would catch it
            return
        assert expected is None, f"approve by {who} should have failed with {expected}"
        r.deciders.append(who)
        if len(r.deciders) == len(r.levels):
            self._apply(r)

    @rule(who=st.sampled_from(STAFF_NAMES), steer=STEER)
    def climb(self, who, steer):
        """Take the next level of a request that is part-way up its chain (else the newest
        request), so long chains, second deciders and late staleness are reached often."""
        if not self.reqs:
            return
        partway = [r for r in self.reqs.values() if r.status == "pending" and r.deciders]
        target = partway[-1] if partway else self.reqs[max(self.reqs)]
        self.approve(target.id, who, steer)

    @rule(rid=requests, who=st.sampled_from(STAFF_NAMES), steer=STEER)
    def reject(self, rid, who, steer):
        r = self.reqs[rid]
        who = self._pick(r, who, steer)
        expected = self._why_not(r, who)
        if expected is None and self._expired(r):
            expected = Expired
        try:
            approvals.reject(self.crm, self.actors[who], rid, "理由不充分", now=self.now)
        except (PermissionDenied, NotDecidable, Expired) as exc:
            assert type(exc) is expected, (type(exc), expected)
            if expected is Expired:
                r.status = "expired"
            else:
                self.dirty = False
            return
        assert expected is None
        r.deciders.append(who)
        r.status = "rejected"

    @rule(rid=consumes(requests), who=st.sampled_from(sorted(MAKERS)))
    def withdraw(self, rid, who):
        r = self.reqs[rid]
        try:
            approvals.withdraw(self.crm, self.actors[who], rid, now=self.now)
        except NotDecidable:
            assert who != r.maker or r.status != "pending"
            self.dirty = False
            return
        assert who == r.maker and r.status == "pending"
        r.status = "withdrawn"

    @rule(rid=requests)
    def edit_target(self, rid):
        """Someone edits the customer a request is about (so approvals must go stale)."""
        label = self.reqs[rid].customer
        update_customer(self.crm, self.actors[EDITOR[label]], self.cid[label],
                        self.version[label], {"address": f"北京市东城区{self.version[label]}号"})
        self.version[label] += 1

    @rule(hours=st.integers(1, 80), run_job=st.booleans())
    def time_passes(self, hours, run_job):
        """The clock moves on; sometimes the expiry job runs."""
        self.now += timedelta(hours=hours)
        if not run_job:
            self.dirty = False  # nothing written: the next check would read the same rows
            return
        due = [r for r in self.reqs.values() if r.status == "pending" and self._expired(r)]
        assert approvals.expire_due(self.crm, now=self.now) == len(due)
        for r in due:
            r.status = "expired"

    @rule(who=st.sampled_from(STAFF_NAMES))
    def inbox_shows_exactly_what_one_may_decide(self, who):
        a = self.actors[who]
        if a.role not in DECIDERS:
            return
        expected = sorted(r.id for r in self.reqs.values()
                          if self._why_not(r, who) is None and not self._expired(r))
        got = [r.id for r in approval_views.inbox(self.crm, a, now=self.now)]
        assert got == expected  # oldest first = creation order = id order here
        self.dirty = False

    # -- invariants, read from the database -----------------------------------------------

    @invariant()
    def rules_hold_in_the_database(self):
        if not hasattr(self, "crm") or not self.dirty:
            self.dirty = True
            return
        staff = STAFF_PLACES()
        R, D = ApprovalRequest, ApprovalDecision
        with self.crm.db.read() as s:
            reqs = {r.id: r for r in s.execute(select(
                R.id, R.status, R.maker_id, R.maker_ref, R.levels, R.levels_total))}
            decisions = s.execute(select(
                D.request_id, D.level, D.role, D.decider_id, D.decider_ref, D.decision)).all()
            trades = s.execute(select(Trade.external_ref)).scalars().all()
            events: dict[str, int] = dict(s.execute(
                select(AuditEvent.entity_id, func.count()).where(
                    AuditEvent.entity == "approval_request").group_by(AuditEvent.entity_id)).all())
            applied = [json.loads(a)["request"] for a in s.scalars(
                select(AuditEvent.after).where(AuditEvent.action.in_(
                    ["customer.sensitive_change", "trade.execute"])))]
            versions = dict(s.execute(select(Customer.id, Customer.version)).all())
        seen = set()
        per_request: dict[int, list] = {}
        for d in decisions:
            req = reqs[d.request_id]
            per_request.setdefault(d.request_id, []).append(d)
            assert d.decider_ref != req.maker_ref, "maker decided her own request"
            assert d.decider_id != req.maker_id
            who, maker = staff[d.decider_id], staff[req.maker_id]
            level = req.levels[d.level]
            assert who[0] == level["role"] == d.role, "decided without the role"
            scope = level["scope"]
            assert (scope == "any" or (scope == "branch" and who[1] == maker[1])
                    or (scope == "team" and who[2] == maker[2])), "decided out of scope"
            assert (d.request_id, d.decider_id) not in seen, "one person, two levels"
            seen.add((d.request_id, d.decider_id))
        assert len(trades) == self.trades
        for ref in trades:
            if ref:
                rid = int(ref.split(":")[1])
                approved = [d for d in per_request.get(rid, []) if d.decision == "approved"]
                assert reqs[rid].status == "approved" and len(approved) == reqs[rid].levels_total, \
                    "a transaction executed without every level"
        assert set(reqs) == set(self.reqs)
        for req in reqs.values():
            n = len(per_request.get(req.id, []))
            closing = 1 if req.status in ("withdrawn", "expired", "stale") else 0
            assert events.get(str(req.id), 0) == 1 + n + closing, "a step without its audit event"
            assert applied.count(req.id) == (1 if req.status == "approved" else 0)
            assert req.status == self.reqs[req.id].status
        for label, cid in self.cid.items():
            assert versions[cid] == self.version[label]

    def check_chain(self) -> None:
        assert verify_chain(self.crm.db).ok


class ChainCheckedMachine(ApprovalMachine):
    def teardown(self) -> None:
        if hasattr(self, "crm"):
            self.dirty = True
            self.rules_hold_in_the_database()
            self.check_chain()


ChainCheckedMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("CRM_SM_EXAMPLES", "500")), stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


class TestApprovalStateMachine(ChainCheckedMachine.TestCase):  # type: ignore[name-defined]
    """Collected by pytest; runs 500 random sequences of up to 10 steps."""

"""`crm demo` data: a believable branch, internally consistent, deterministic, audited once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from crm_tui.demo.people import credit_code, luhn_complete
from crm_tui.demo.seed import seed_demo
from crm_tui.domain.admin.auth import actor_of, login
from crm_tui.domain.compliance import alerts, approval_views, approvals
from crm_tui.domain.compliance.alerts import Frozen
from crm_tui.domain.customers import profile, scope, search
from crm_tui.domain.customers.kyc import checklist_for
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor, system_actor
from crm_tui.domain.kernel.errors import Blocked, PermissionDenied
from crm_tui.domain.kernel.permissions import ROLES
from crm_tui.domain.kernel.validation import parse_mobile, parse_prc_id
from crm_tui.domain.sales.transactions import record_transaction
from crm_tui.i18n import render
from crm_tui.store.models import (
    AuditEvent,
    Customer,
    CustomerTag,
    Holding,
    Interaction,
    KycDocument,
    Product,
    Staff,
    Tag,
    Trade,
)
from crm_tui.store.models_compliance import ApprovalRequest

N = 200
PW = "demo-password-1"
NOW = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


def _seed(crm, *, seed: int = 7, now: datetime | None = None):
    return seed_demo(crm, system_actor("demo"), customers=N, password=PW, seed=seed, now=now)


def test_seeds_a_whole_branch(crm) -> None:
    logins = _seed(crm)
    names = {u for u, _, _ in logins}
    assert {"rm1", "rm2", "sup1", "bh1", "comp1", "risk1", "svc1", "admin"} <= names
    assert {r for _, r, _ in logins} == set(ROLES)
    assert login(crm, "rm1", PW).role == "rm"

    with crm.db.read() as s:
        count = lambda model: s.scalar(select(func.count()).select_from(model))  # noqa: E731
        assert count(Customer) == N + 1  # the demo lead converted by seed_sales (issue 9)
        assert count(Staff) == len(logins)
        assert s.scalar(select(func.count()).select_from(Customer)
                        .where(Customer.kind == "institutional")) > 0
        assert {r for (r,) in s.execute(select(Product.risk_level).distinct())} == {
            "R1", "R2", "R3", "R4", "R5"}
        assert count(Interaction) > N * 2 and count(Trade) > 0 and count(Holding) > N / 2
        assert {c for (c,) in s.execute(select(Interaction.channel).distinct())} == {
            "branch", "phone", "mobile_app", "web", "wechat", "email"}
        # AUM is the sum of holdings, customer by customer
        held = (select(func.coalesce(func.sum(Holding.amount_fen), 0))
                .where(Holding.customer_id == Customer.id).scalar_subquery())
        assert s.scalar(select(func.count()).select_from(Customer)
                        .where(Customer.aum_fen != held)) == 0
        # every rule tag has members, and manual tags exist beside them
        tagged = dict(s.execute(select(Tag.name, func.count()).join(CustomerTag)
                                .group_by(Tag.name)).all())
        for tag in ("高净值", "私人银行", "保守型", "活跃交易", "重点维护"):
            assert tagged.get(tag, 0) > 0, tag
        # rm1 carries the largest book
        books = dict(s.execute(select(Staff.username, func.count()).join(
            Customer, Customer.rm_id == Staff.id).group_by(Staff.username)).all())
        assert max(books, key=books.get) == "rm1" and books["rm1"] >= N * 0.15

    report = audit.verify_chain(crm.db)
    assert report.ok
    with crm.db.read() as s:
        seeded = s.scalars(select(AuditEvent).where(AuditEvent.action == "demo.seed")).all()
    assert len(seeded) == 1 and f'"customers": {N}' in seeded[0].after


def _staff(crm, username: str) -> Actor:
    """The staff member as `login` would return her, without argon2's second per login."""
    with crm.db.read() as s:
        return actor_of(s.scalars(select(Staff).where(Staff.username == username)).one())


def _customer_id(crm, name: str) -> int:
    with crm.db.read() as s:
        return s.scalar(select(Customer.id).where(Customer.name == name).order_by(Customer.id))


def test_inbox_and_alerts_have_work_waiting(crm) -> None:
    _seed(crm)
    sup1, bh1, comp1, risk1, rm1 = (_staff(crm, u) for u in ("sup1", "bh1", "comp1", "risk1",
                                                               "rm1"))
    # sup1: three sensitive changes (two by rm1, one by rm2) and the large sale's first level
    inbox = approval_views.inbox(crm, sup1)
    assert approval_views.inbox_count(crm, sup1) == len(inbox) == 4
    assert sorted(r.kind for r in inbox) == ["large_transaction"] + ["sensitive_change"] * 3
    assert sorted(r.maker_name for r in inbox if r.kind == "sensitive_change") == [
        "李娜", "王芳", "王芳"]
    assert [r.created_at for r in inbox] == sorted(r.created_at for r in inbox)  # oldest first
    change = approval_views.get_request(crm, sup1, next(r.id for r in inbox if r.customer_name == "张三"))
    assert change.can_decide and change.changes[0].before != change.changes[0].after
    assert "*" in change.changes[0].after and change.evidence  # masked, with the maker's reason
    # comp1: the suitability override, with the assessment and the product risk as evidence,
    # and a contract closing from the pipeline (issue 9)
    comp_inbox = approval_views.inbox(crm, comp1)
    assert sorted(r.kind for r in comp_inbox) == ["contract_close", "suitability_override"]
    override = next(r for r in comp_inbox if r.kind == "suitability_override")
    assert approval_views.inbox_count(crm, comp1) == 2
    evidence = {render(k): render(v)
                for k, v in approval_views.get_request(crm, comp1, override.id).evidence}
    assert "C3" in evidence.values() and "R4" in evidence.values()
    assert approval_views.inbox_count(crm, bh1) == 0 and approval_views.inbox_count(crm, rm1) == 0
    # the History tab: a phone change sup1 approved, applied to the customer
    (done,) = approval_views.history(crm, sup1)
    assert done.status == "approved" and done.customer_name == "周晓梅"
    with crm.db.read() as s:
        enc = s.scalar(select(Customer.phone_enc).where(Customer.name == "周晓梅"))
    assert crm.keys.decrypt("phone", enc) == "15201234876"

    # the large sale climbs: supervisor, then branch head, then it executes
    sale = next(r for r in inbox if r.kind == "large_transaction")
    assert approvals.approve(crm, sup1, sale.id) == "pending"
    assert [r.id for r in approval_views.inbox(crm, bh1)] == [sale.id]
    assert approvals.approve(crm, bh1, sale.id) == "approved"
    with crm.db.read() as s:
        assert s.get(ApprovalRequest, sale.id).result_ref.startswith("trade:")

    # risk1: one high alert freezing a customer in rm1's book, and one ordinary alert
    open_alerts = alerts.list_alerts(crm, risk1)
    assert alerts.count_open(crm, risk1) == len(open_alerts) == 2
    high = next(a for a in open_alerts if a.severity == "high")
    assert high.freeze and high.customer_name == "陈志强" and high.kind == "cross_border"
    assert any(a.severity == "medium" and not a.freeze for a in open_alerts)
    frozen = _customer_id(crm, "陈志强")
    assert frozen in {c.id for c in search.search_customers(crm, rm1, "陈志强")}
    with pytest.raises(Frozen):
        record_transaction(crm, rm1, frozen, "subscription", "10000", product_code="DP0001")
    alerts.clear_alert(crm, risk1, high.id, "已电话核实为客户本人境外子女学费汇款")
    assert record_transaction(crm, rm1, frozen, "subscription", "10000",
                              product_code="DP0001").status == "executed"
    assert audit.verify_chain(crm.db).ok


def test_identities_are_valid_and_encrypted(sqlite_crm) -> None:
    crm = sqlite_crm
    _seed(crm)
    today = datetime.now(crm.tz).date()
    with crm.db.read() as s:
        rows = s.execute(select(Customer.kind, Customer.national_id_enc, Customer.phone_enc,
                                Customer.birth_date, Customer.national_id_bidx)).all()
    assert len({r[4] for r in rows}) == N + 1  # with the converted demo lead
    for kind, nid_enc, phone_enc, born, _ in rows:
        nid = crm.keys.decrypt("national_id", nid_enc)
        assert nid and nid not in nid_enc
        parse_mobile(crm.keys.decrypt("phone", phone_enc))
        if kind == "individual":
            assert parse_prc_id(nid) == nid
            age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
            assert 22 <= age <= 85, age
        else:
            assert credit_code(nid[2:8], nid[8:16]) == nid
    files = [crm.db.sqlite_path, crm.db.sqlite_path.with_name("crm.db-wal")]
    raw = b"".join(f.read_bytes() for f in files if f.exists())
    for _, nid_enc, *_ in rows[:20]:
        assert crm.keys.decrypt("national_id", nid_enc).encode() not in raw


def test_kyc_and_risk_in_every_state(sqlite_crm) -> None:
    crm = sqlite_crm
    _seed(crm)
    policy = crm.policy()
    today = datetime.now(crm.tz).date()
    seen: set[str] = set()
    risk: set[str] = set()
    with crm.db.read() as s:
        for cid, kind in s.execute(select(Customer.id, Customer.kind)).all():
            seen |= {item.status for item in checklist_for(s, policy, cid, kind, today).items}
        for until in s.scalars(select(Customer.risk_valid_until)).all():
            risk.add("missing" if until is None else "expired" if until < today else "current")
        statuses = {st for (st,) in s.execute(select(KycDocument.status).distinct())}
    assert seen >= {"ok", "expiring", "expired", "pending", "rejected", "missing"}
    assert risk == {"missing", "expired", "current"}
    assert statuses == {"verified", "pending", "rejected"}


def test_rm1_has_a_rich_findable_customer(sqlite_crm) -> None:
    crm = sqlite_crm
    _seed(crm)
    rm1 = login(crm, "rm1", PW)
    hits = search.search_customers(crm, rm1, "zs")
    zhang = next(h for h in hits if h.name == "张三")
    assert search.search_customers(crm, rm1, "张三")[0].id == zhang.id
    view = profile.get_profile(crm, rm1, zhang.id)
    assert view.aum >= 6_000_000 and len(view.holdings) >= 3
    assert {t.name for t in view.tags} >= {"高净值", "企业主"}
    assert len(view.interactions) == 20 and view.more_interactions
    assert all(i.subject and i.summary for i in view.interactions)
    kinds = {n.kind for n in view.network}
    assert {"spouse", "child", "parent", "business_partner", "influencer"} <= kinds
    assert all(item.status == "ok" for item in view.kyc.items)
    # the branch head sees the whole branch, rm1 only her book
    bh1 = login(crm, "bh1", PW)
    assert scope.count_in_scope(crm, bh1) > scope.count_in_scope(crm, rm1) > 0


def test_deterministic_for_a_seed(tmp_path) -> None:
    from tests.conftest import _sqlite_db, make_crm

    def fingerprint(seed: int, name: str) -> tuple:
        (tmp_path / name).mkdir()
        db = _sqlite_db(tmp_path / name)
        from sqlmodel import SQLModel

        SQLModel.metadata.create_all(db.write_engine)
        crm = make_crm(db, tmp_path / name)
        _seed(crm, seed=seed, now=NOW)
        with crm.db.read() as s:
            people = s.execute(select(Customer.name, Customer.phone_last4, Customer.birth_date,
                                      Customer.aum_fen, Customer.risk_level, Customer.rm_id)
                               .order_by(Customer.id)).all()
            touches = s.execute(select(Interaction.customer_id, Interaction.occurred_at,
                                       Interaction.subject).order_by(Interaction.id)).all()
            trades = s.scalar(select(func.count()).select_from(Trade))
        db.dispose()
        return people, touches, trades

    first, again, other = fingerprint(7, "a"), fingerprint(7, "b"), fingerprint(8, "c")
    assert first == again
    assert first[0] != other[0]


def test_refuses_a_database_that_has_data_and_needs_admin(sqlite_crm, sqlite_world) -> None:
    crm = sqlite_crm
    with pytest.raises(PermissionDenied):
        seed_demo(crm, sqlite_world["rm1"], customers=N, password=PW)
    with pytest.raises(Blocked):
        _seed(crm)
    with crm.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.action == "demo.seed")) == 0


def test_identifier_check_digits() -> None:
    assert luhn_complete("7992739871") == "79927398713"  # the textbook Luhn example
    assert credit_code("350100", "M000100Y") == "91350100M000100Y43"  # GB 32100's example


def test_demo_pipeline_has_every_stage_breached_leads_a_proposal_and_a_closing(crm) -> None:
    from crm_tui.domain.sales import board, leads
    from crm_tui.store.models_compliance import ApprovalRequest
    from crm_tui.store.models_sales import OpportunityProposal

    _seed(crm)
    rm1, sup2 = _staff(crm, "rm1"), _staff(crm, "sup2")
    columns = {c.stage: c.count for c in board.columns(crm, rm1)}
    assert all(columns[s] >= 1 for s in ("needs", "matching", "proposal", "closing", "won",
                                         "lost")), columns
    everyone = leads.list_leads(crm, system_actor("test"))
    assert sum(v.breached for v in everyone) >= 2
    assert any(v.owner is None for v in everyone)  # the unassigned queue
    assert leads.list_leads(crm, sup2, view="breached")  # the online leads went to team 二组
    with crm.db.read() as s:
        assert s.scalar(select(func.count()).select_from(OpportunityProposal)) >= 2
        assert s.scalar(select(func.count()).select_from(ApprovalRequest).where(
            ApprovalRequest.kind == "contract_close", ApprovalRequest.status == "pending")) == 1

"""The sales part of `crm demo`: leads and opportunities in every stage, made through the
domain functions staff use (so assignment rules, SLAs, suitability and approvals apply).

What a demo user finds:

- leads from campaigns, web sign-ups, referrals and walk-ins, assigned by the policy's
  rules (sup1's and sup2's teams in Beijing, Pudong from 500,000), two of them past their
  24-hour first contact (breached and escalated by the SLA job), one already contacted and
  converted, small Pudong walk-ins waiting in sup3's unassigned queue;
- rm1's board: cards in needs, matching, proposal (with a rendered proposal and the
  customer's feedback), closing (waiting for comp1's compliance approval), won (approved,
  the subscription executed, onboarding and first review tasks) and lost (a reason).

Each step is its own transaction, as for staff. Customers a step cannot use (frozen by an
alert, an incomplete KYC file) are skipped for the next one in rm1's book.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from crm_tui.demo.compliance import _staff
from crm_tui.domain.compliance import approvals
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import DomainError
from crm_tui.domain.sales import conversion, lead_jobs, leads, opportunities, proposals
from crm_tui.domain.sales.questionnaires import submit_needs
from crm_tui.store.models import Customer, Product
from crm_tui.store.models_sales import Opportunity

LEADS = (
    # name, source, branch, estimated assets, interest, phone, hours ago
    ("许文博", "web", "BJ01", "300000", "理财", "13601012233", 30),
    ("邓佳怡", "campaign", "BJ01", "1200000", "基金", "13910203344", 27),
    ("唐浩然", "referral", "BJ01", "8800000", "私人银行", "13811112222", 20),
    ("韩雪", "walk_in", "BJ01", "500000", "存款", "13522223333", 5),
    ("曹宇航", "web", "BJ01", "200000", "理财", "13733334444", 2),
    ("彭丽娟", "referral", "SH01", "2600000", "保险", "13944445555", 6),
    ("蒋思远", "walk_in", "SH01", "150000", "存款", "13655556666", 3),
    ("沈梦琪", "campaign", "SH01", "80000", "理财", "13766667777", 1),
)
NEEDS = {"goals": ["growth", "education"], "horizon": "1to3y", "liquidity": "medium",
         "investable_funds": "2000000", "existing_portfolio": "定期存款约100万，货币基金20万"}
CATALOGUE = {  # the few products the demo deals use: the details proposals print
    "WM0002": dict(min_amount_fen=1_000_000, step_amount_fen=100_000, term_days=180,
                   fee_rate_bp=30, expected_return_low_bp=260, expected_return_high_bp=340,
                   issuer="安享理财有限责任公司",
                   disclosure="本产品为非保本浮动收益型理财产品，业绩比较基准不代表未来表现和实际收益，"
                              "持有期内不可赎回，极端情况下可能损失部分本金。"),
    "FD0004": dict(min_amount_fen=100_000, step_amount_fen=100, fee_rate_bp=120,
                   expected_return_low_bp=-800, expected_return_high_bp=1500, issuer="恒通基金",
                   disclosure="基金有风险，投资需谨慎。混合型基金净值随股票和债券市场波动，"
                              "可能出现较大回撤，过往业绩不代表未来表现。"),
    "WM0005": dict(min_amount_fen=1_000_000, step_amount_fen=100_000, term_days=365,
                   early_redeemable=False, fee_rate_bp=50, expected_return_low_bp=300,
                   expected_return_high_bp=450, issuer="鑫益理财",
                   disclosure="封闭期一年，期间不可提前赎回；投资于债券与权益资产，收益不确定。"),
}


def _catalogue(crm: Crm) -> None:
    with crm.db.write() as session:
        for code, values in CATALOGUE.items():
            session.execute(update(Product).where(Product.code == code, Product.disclosure == "")
                            .values(**values))


def _leads(crm: Crm, actor: Actor, now: datetime) -> list[int]:
    out = []
    for name, source, branch, assets, interest, phone, hours in LEADS:
        created = now - timedelta(hours=hours)
        out.append(leads.create_lead(crm, actor, {
            "name": name, "source": source, "branch_code": branch, "estimated_assets": assets,
            "product_interest": interest, "phone": phone, "created_at": created.isoformat()},
            now=created))
    return out


def _candidates(crm: Crm, rm: Actor) -> list[int]:
    """rm1's assessed customers, the showcase first (lowest ids)."""
    with crm.db.read() as session:
        return list(session.scalars(select(Customer.id).where(
            Customer.rm_id == rm.id, Customer.risk_level.in_(("C3", "C4", "C5")))  # type: ignore[union-attr]
            .order_by(Customer.id).limit(60)))


def _walk(crm: Crm, rm: Actor, cid: int, stage: str, now: datetime, amount: str) -> int:
    """One opportunity of customer `cid`, walked to `stage` (proposal, closing and won get
    their documents; won is approved by compliance)."""
    oid = opportunities.create_opportunity(crm, rm, cid, now=now - timedelta(days=12))
    if stage == "needs":
        return oid
    submit_needs(crm, rm, cid, NEEDS, now=now - timedelta(days=10))
    opportunities.move(crm, rm, oid, "matching", now=now - timedelta(days=9))
    if stage == "matching":
        return oid
    if stage == "lost":
        opportunities.move(crm, rm, oid, "lost", reason="competitor", now=now - timedelta(days=3))
        return oid
    opportunities.choose_product(crm, rm, oid, "WM0002" if stage != "won" else "FD0004", amount)
    opportunities.move(crm, rm, oid, "proposal", now=now - timedelta(days=6))
    pid = proposals.make_proposal(crm, rm, oid, now=now - timedelta(days=6))
    proposals.record_feedback(crm, rm, pid, "positive", "客户认可期限与收益区间，希望与家人商量后决定",
                              now=now - timedelta(days=5))
    if stage == "proposal":
        return oid
    opportunities.move(crm, rm, oid, "closing", now=now - timedelta(hours=4))
    return oid


def seed_sales(crm: Crm, actor: Actor, now: datetime) -> dict[str, int]:
    rm1, comp1, sup1 = (_staff(crm, u) for u in ("rm1", "comp1", "sup1"))
    _catalogue(crm)
    lead_ids = _leads(crm, sup1, now)
    # the referral 唐浩然 was called back within the hour and became a customer
    converted = lead_ids[2]
    lead = leads.get_lead(crm, sup1, converted)
    owner = _staff(crm, lead.owner or "rm1")
    leads.record_contact(crm, owner, converted, "电话沟通，约周五到网点面谈",
                         at=lead.created_at + timedelta(minutes=40))
    try:
        conversion.convert_lead(crm, owner, converted, {"national_id": _demo_id()},
                                now=lead.created_at + timedelta(hours=3))
    except DomainError:
        pass
    breached = lead_jobs.run_due(crm, now)["leads_breached"]
    stages = (("won", "120000"), ("closing", "600000"), ("proposal", "1000000"),
              ("proposal", "2000000"), ("matching", ""), ("matching", ""), ("needs", ""),
              ("needs", ""), ("lost", ""))
    made: dict[str, int] = {}
    people = iter(_candidates(crm, rm1))
    for stage, amount in stages:
        for cid in people:
            try:
                oid = _walk(crm, rm1, cid, stage, now, amount or "1000000")
            except DomainError:
                continue
            if stage == "won":
                with crm.db.read() as session:
                    rid = session.scalar(select(Opportunity.close_request_id).where(
                        Opportunity.id == oid))
                approvals.approve(crm, comp1, rid or 0, "资料齐全，适当性匹配，同意签约",
                                  now=now - timedelta(hours=20))
            made[stage] = made.get(stage, 0) + 1
            break
    return {"leads": len(lead_ids), "breached": breached, **made}


def _demo_id() -> str:
    from crm_tui.domain.kernel.validation import id_check_digit

    first17 = "11010519780405371"
    return first17 + id_check_digit(first17)

"""A customer with something in every data category, for the privacy tests."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import update

from crm_tui.domain.customers import consent
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.store.models import (
    Customer,
    CustomerTag,
    Holding,
    Interaction,
    KycDocument,
    Product,
    RiskAssessment,
    Tag,
    Trade,
)
from crm_tui.store.types import utcnow
from tests.helpers import make_customer


def wechat_field(crm: Crm, admin: Actor) -> None:
    """A custom field (form engine) that holds personal data."""
    from crm_tui.domain.forms.definitions import add_field

    add_field(crm, admin, "customer", "wechat_id", label_zh="微信号", label_en="WeChat ID")


def product(crm: Crm, code: str = "WM-R2-01") -> int:
    with crm.db.write() as s:
        p = Product(code=code, name="稳健理财 180 天", category="wealth", risk_level="R2")
        s.add(p)
        s.flush()
        return p.id or 0


def full_customer(crm: Crm, rm: Actor, name: str, canary: str, product_id: int,
                  *, phone: str, national_id: str | None = None, amount_fen: int = 5_000_000,
                  held_fen: int | None = None, when=None) -> int:
    """`canary` goes into every free-text place, so a test can grep for it."""
    extra = {"national_id": national_id} if national_id else {}
    cid = make_customer(crm, rm, name, phone=phone, email=f"{canary.lower()}@example.cn",
                        address=f"北京市朝阳区{canary}路 8 号",
                        occupation="工程师", **extra)
    when = when or utcnow()
    with crm.db.write() as s:
        s.execute(update(Customer).where(Customer.id == cid)
                  .values(custom={"wechat_id": f"{canary}-wx"}))
        s.add(KycDocument(customer_id=cid, kind="id_proof", status="verified",
                          expires_on=date.today() + timedelta(days=900), note=f"{canary}-kyc"))
        s.add(RiskAssessment(customer_id=cid, answers={"q1": f"{canary}-answer"}, score=50,
                             level="C3", valid_until=date.today() + timedelta(days=300)))
        s.add(Holding(customer_id=cid, product_id=product_id,
                      amount_fen=amount_fen if held_fen is None else held_fen))
        s.add(Trade(customer_id=cid, product_id=product_id, kind="subscription",
                    amount_fen=amount_fen, occurred_at=when, staff_id=rm.id))
        s.add(Interaction(customer_id=cid, staff_id=rm.id, channel="phone", occurred_at=when,
                          subject=f"{canary}-subject", summary=f"{canary}-summary",
                          next_action=f"{canary}-next"))
        tag = Tag(name=f"私行客户{phone[-4:]}")  # a shared label, not personal data
        s.add(tag)
        s.flush()
        s.add(CustomerTag(customer_id=cid, tag_id=tag.id or 0, added_by=rm.id))
    consent.record_consent(crm, rm, cid, "marketing_sms", True, notice_version="2026.1",
                           channel="branch")
    return cid


def service_history(crm: Crm, world, customer_id: int, canary: str) -> None:  # type: ignore[no-untyped-def]
    """A complaint ticket worked through every step, a plain ticket answered and resolved, and
    a care message that failed (its error names the address): `canary` in every text."""
    from crm_tui.domain.service import complaints, outbox, tickets
    from crm_tui.domain.service.senders import SendError

    svc, sup = world["svc1"], world["sup1"]
    tid = tickets.create_ticket(crm, svc, customer_id, {
        "type": "complaint", "priority": "high", "subject": f"{canary}-ticket-subject",
        "description": f"{canary}-ticket-description"})
    view = complaints.complaint_for_ticket(crm, svc, tid)
    assert view is not None
    complaints.grade(crm, svc, view.id, "serious")
    complaints.investigate(crm, sup, view.id, "sup1", f"{canary}-findings")
    complaints.resolve(crm, sup, view.id, f"{canary}-remedy")
    complaints.record_feedback(crm, svc, view.id, f"{canary}-feedback", satisfied=True)
    complaints.review(crm, world["comp1"], view.id, f"{canary}-cause", f"{canary}-action", "sup1")
    other = tickets.create_ticket(crm, svc, customer_id, {
        "type": "inquiry", "subject": f"{canary}-question"})
    tickets.assign_ticket(crm, svc, other)
    tickets.respond(crm, svc, other, f"{canary}-answer-note")
    tickets.resolve_ticket(crm, svc, other, f"{canary}-resolution")
    consent.record_consent(crm, world["rm1"], customer_id, "marketing_email", True,
                           notice_version="2026.1", channel="branch")
    now = utcnow()
    with crm.db.write() as s:
        outbox.enqueue(s, channel="email", customer_id=customer_id, trigger="birthday",
                       subject=f"{canary}-greeting", body=f"{canary}-body 生日快乐",
                       dedupe_key=f"test:{customer_id}", now=now)

    class Refusing:
        def send(self, message) -> None:  # type: ignore[no-untyped-def]
            raise SendError(f"550 mailbox {message.to} unknown")

    outbox.deliver_due(crm, now, {"email": Refusing()})

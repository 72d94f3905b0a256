"""The service part of `crm demo`: a working service desk.

Through the domain functions staff use (each step audited), dated relative to `now`:

- BJ01's desk (svc1 马丽): tickets in every state — new, assigned, in progress, waiting for
  the customer (clock paused), resolved with a satisfaction score, closed, one reopened —
  and some past their deadline, flagged and escalated by the breach job;
- a major complaint mid-loop (graded and under investigation by sup1): bh1 and comp1
  have its notification; SH01's desk (svc2 朱婷) has a few tickets too;
- marketing consent (SMS, some e-mail) for a share of customers, in the consent ledger;
- review tasks for every RM's book for the current period, and care greetings for the
  past week's birthdays and signing anniversaries and the most recent holiday in the
  outbox: SMS handed to the gateway, e-mail waiting to be retried (no SMTP server).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from crm_tui.demo.compliance import _staff
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.service import complaints, tickets
from crm_tui.domain.service.care import holiday_today, run_care
from crm_tui.domain.service.escalation import escalate_breaches
from crm_tui.domain.service.outbox import deliver_due
from crm_tui.domain.service.reviews import generate_reviews
from crm_tui.domain.service.senders import OutgoingMessage, SendError
from crm_tui.store.models import Customer
from crm_tui.store.models_privacy import ConsentRecord

# (hours before now, customer index, type, priority, subject, what happens next)
TICKETS = (
    (50, 0, "transaction_help", "urgent", "手机银行转账显示成功但对方未到账", "breach"),
    (26, 1, "inquiry", "normal", "大额存单提前支取利息如何计算", "new"),
    (3, 2, "info_change", "low", "更新单位地址及联系电话", "assigned"),
    (5, 3, "transaction_help", "high", "基金定投扣款失败需重新签约", "in_progress"),
    (30, 4, "inquiry", "normal", "理财产品到期资金何时到账", "waiting"),
    (72, 5, "other", "low", "申请开具资产证明", "resolved"),
    (120, 6, "inquiry", "normal", "个人养老金账户开户咨询", "closed"),
    (96, 7, "transaction_help", "high", "信用卡自动还款未扣款", "reopened"),
    (1, 8, "inquiry", "urgent", "银行卡被吞卡如何领回", "new"),
    (8, 9, "info_change", "normal", "身份证到期更新", "assigned"),
)


class _Gateway:
    """The demo's SMS gateway: accepts everything (nothing leaves the machine)."""

    def send(self, message: OutgoingMessage) -> None:
        return None


class _NoSmtp:
    def send(self, message: OutgoingMessage) -> None:
        raise SendError("no SMTP server is configured (CRM_SMTP_HOST)")


def _branch_customers(crm: Crm, branch: str, limit: int) -> list[int]:
    from crm_tui.store.models import Branch

    with crm.db.read() as s:
        return list(s.scalars(select(Customer.id).join(Branch, Branch.id == Customer.branch_id)
                              .where(Branch.code == branch, Customer.rm_id.is_not(None))  # type: ignore[union-attr]
                              .order_by(Customer.id).limit(limit)))


def _work(crm: Crm, svc: Actor, rm_name: str, tid: int, plan: str, at: datetime) -> None:
    later = at + timedelta(minutes=20)
    if plan in ("new", "breach"):
        return
    tickets.assign_ticket(crm, svc, tid, None if plan != "assigned" else rm_name, now=later)
    if plan == "assigned":
        return
    if plan == "resolved":  # answered and settled on the first call
        tickets.resolve_ticket(crm, svc, tid, "电话中当场开具并寄送资产证明", now=later)
        tickets.record_csat(crm, svc, tid, 5)
        return
    tickets.respond(crm, svc, tid, "已联系客户，正在核实处理", now=later + timedelta(minutes=10))
    if plan == "in_progress":
        return
    if plan == "waiting":
        tickets.change_state(crm, svc, tid, "waiting_customer", "请客户补充身份证明材料",
                             now=later + timedelta(minutes=15))
        return
    tickets.resolve_ticket(crm, svc, tid, "已按客户要求办结", now=later + timedelta(hours=2))
    tickets.record_csat(crm, svc, tid, 5 if plan != "reopened" else 3)
    if plan in ("closed", "reopened"):
        tickets.change_state(crm, svc, tid, "closed", now=later + timedelta(hours=3))
    if plan == "reopened":
        tickets.change_state(crm, svc, tid, "in_progress", "客户反映问题再次出现",
                             now=later + timedelta(hours=20))


def _consents(crm: Crm, actor: Actor, now: datetime) -> int:
    """A share of the book agreed to marketing SMS (and some to e-mail) at onboarding."""
    with crm.db.write() as s:
        rows = []
        for cid, created, rm_id in s.execute(select(Customer.id, Customer.created_at,
                                                    Customer.rm_id).order_by(Customer.id)):
            if cid % 5 in (0, 1, 2):
                rows.append({"customer_id": cid, "purpose": "marketing_sms", "granted": True,
                             "notice_version": "2024.1", "channel": "branch",
                             "recorded_by": rm_id, "recorded_at": min(created, now)})
            if cid % 5 == 0:
                rows.append({"customer_id": cid, "purpose": "marketing_email", "granted": True,
                             "notice_version": "2024.1", "channel": "branch",
                             "recorded_by": rm_id, "recorded_at": min(created, now)})
        if rows:
            s.execute(insert(ConsentRecord), rows)
        audit.record(crm.db, s, actor, "demo.consent", "database", "", None, {"records": len(rows)})
        return len(rows)


def seed_service(crm: Crm, actor: Actor, now: datetime) -> dict[str, int]:
    svc, svc2 = _staff(crm, "svc1"), _staff(crm, "svc2")
    bj = _branch_customers(crm, "BJ01", len(TICKETS) + 1)
    sh = _branch_customers(crm, "SH01", 3)
    made = 0
    for hours, index, kind, priority, subject, plan in TICKETS:
        if index >= len(bj):
            continue
        at = now - timedelta(hours=hours)
        tid = tickets.create_ticket(crm, svc, bj[index], {"type": kind, "priority": priority,
                                                          "subject": subject, "channel": "phone"},
                                    now=at)
        _work(crm, svc, "rm1", tid, plan, at)
        made += 1
    if len(bj) > len(TICKETS):
        tid = tickets.create_ticket(crm, svc, bj[len(TICKETS)], {
            "type": "complaint", "priority": "high", "channel": "branch",
            "subject": "客户投诉理财经理销售时未充分揭示产品风险"}, now=now - timedelta(days=2))
        view = complaints.complaint_for_ticket(crm, svc, tid)
        if view is not None:
            complaints.grade(crm, svc, view.id, "major")
            complaints.investigate(crm, svc, view.id, "sup1",
                                   "调取双录资料，风险揭示书缺少客户签字页，正在约谈相关人员")
        made += 1
    for n, cid in enumerate(sh):
        tickets.create_ticket(crm, svc2, cid, {"type": ("inquiry", "transaction_help", "other")[n],
                                               "subject": ("外币兑换额度咨询", "网银盾无法识别",
                                                           "更换预留手机号")[n]},
                              now=now - timedelta(hours=4 + n))
        made += 1
    escalated = escalate_breaches(crm, now)
    consents = _consents(crm, actor, now)
    reviews = generate_reviews(crm, now)
    tz = ZoneInfo(crm.policy().service.calendar.zone)
    care = 0
    days = [now - timedelta(days=d) for d in range(6, -1, -1)]
    holiday = next((now - timedelta(days=d) for d in range(1, 200)
                    if any(holiday_today(h, (now - timedelta(days=d)).astimezone(tz).date())
                           for h in crm.policy().service.care.holidays)), None)
    for day in ([holiday] if holiday else []) + days:
        care += run_care(crm, day)["care_messages"]
    deliver_due(crm, now, {"sms": _Gateway(), "email": _NoSmtp()})  # one batch: the rest waits
    return {"tickets": made, "escalated": escalated, "consents": consents, "reviews": reviews,
            "care_messages": care}

"""The privacy part of `crm demo`: a consent ledger, rights requests in every state, a
restricted record, a former customer whose retention has ended, and a burst of profile
views — so each PIPL feature has something to show.

- every customer has consent records (most granted SMS marketing at account opening with
  privacy notice 2024.1, fewer e-mail, some partner sharing; a few withdrew SMS later);
- comp1 (f11) finds: 张三's access-and-copy request (rm1, two days ago), an SMS-marketing
  restriction taken by the service desk on the phone, an overdue correction, a deletion she
  completed (the customer is now restricted: out of search and lists, open it with `v` and a
  reason) and a refusal with its written reason;
- a former customer of rm4 closed the account six years ago: `crm jobs run` (or
  `crm privacy retention --dry-run`) finds the data due and opens an anonymisation batch in
  comp1's approval inbox;
- svc2 opened 230 different profiles this morning: `crm jobs run` raises the bulk-viewing
  alert for risk1 and comp1.

Consents and the access-log burst are written with Core executemany (one audit event);
requests go through the domain functions staff use, each with its own audit event.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, func, insert, select, update

from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.privacy import requests
from crm_tui.store.models import Customer, Holding, Staff, Trade
from crm_tui.store.models_privacy import AccessLog, ConsentRecord

NOTICE = "2024.1"
BURST = 230


def _staff(crm: Crm, username: str) -> Actor | None:
    from crm_tui.domain.admin.auth import actor_of

    with crm.db.read() as session:
        row = session.scalars(select(Staff).where(Staff.username == username)).first()
        return actor_of(row) if row else None


def _book(crm: Crm, rm: Actor, limit: int, *, newest: bool = False) -> list[int]:
    order = Customer.id.desc() if newest else Customer.id  # type: ignore[union-attr]
    with crm.db.read() as session:
        return list(session.scalars(select(Customer.id).where(Customer.rm_id == rm.id)
                                    .order_by(order).limit(limit)).all())


def _consents(crm: Crm, actor: Actor, now: datetime) -> int:
    rows = []
    with crm.db.read() as session:
        customers = session.execute(select(Customer.id, Customer.created_at, Customer.rm_id)
                                    .order_by(Customer.id)).all()
    for i, (cid, since, rm) in enumerate(customers):
        at = since + timedelta(minutes=20)
        for purpose, share in (("marketing_sms", 7), ("marketing_email", 4),
                               ("partner_sharing", 2)):
            if i % 10 < share:
                rows.append({"customer_id": cid, "purpose": purpose, "granted": True,
                             "notice_version": NOTICE, "channel": "branch", "recorded_by": rm,
                             "recorded_at": at})
        if i % 10 == 0 and i % 4 == 0:  # withdrew SMS marketing later, by phone
            rows.append({"customer_id": cid, "purpose": "marketing_sms", "granted": False,
                         "notice_version": NOTICE, "channel": "phone", "recorded_by": rm,
                         "recorded_at": max(at, now - timedelta(days=40 + i % 60))})
    with crm.db.write() as session:
        if rows:
            session.execute(insert(ConsentRecord), rows)
        audit.record(crm.db, session, actor, "demo.consents", "database", "", None,
                     {"consent_records": len(rows)})
    return len(rows)


def _requests(crm: Crm, now: datetime) -> None:
    rm1, rm4 = _staff(crm, "rm1"), _staff(crm, "rm4")
    svc1, comp1 = _staff(crm, "svc1"), _staff(crm, "comp1")
    if not (rm1 and rm4 and svc1 and comp1):
        return
    mine = _book(crm, rm1, 2)
    theirs = _book(crm, rm4, 3, newest=True)
    if len(mine) < 2 or len(theirs) < 3:
        return
    requests.open_request(crm, rm1, mine[0], "access", detail="客户要求以电子邮件获取其个人信息副本",
                          channel="branch", now=now - timedelta(days=2, hours=3))
    requests.open_request(crm, svc1, mine[1], "restriction", purposes=["marketing_sms"],
                          detail="客户来电要求停止营销短信", channel="phone",
                          now=now - timedelta(days=5))
    requests.open_request(crm, rm4, theirs[0], "correction", detail="工作单位与职业信息已变更",
                          now=now - timedelta(days=20))
    deletion = requests.open_request(crm, rm4, theirs[1], "deletion",
                                     detail="客户已销户，要求删除个人信息",
                                     now=now - timedelta(days=10))
    requests.complete_request(crm, comp1, deletion, "依反洗钱保存义务限制处理，保存期满后匿名化",
                              now=now - timedelta(days=9))
    refused = requests.open_request(crm, rm4, theirs[2], "access",
                                    detail="家属代为申请查阅客户资料", now=now - timedelta(days=6))
    requests.refuse_request(crm, comp1, refused, "代理人未能提供客户本人签署的授权委托书",
                            now=now - timedelta(days=4))


def _former_customer(crm: Crm, now: datetime) -> None:
    """rm4's newest customer without holdings or trades closed her account six years ago."""
    rm4 = _staff(crm, "rm4")
    if rm4 is None:
        return
    with crm.db.write() as session:
        cid = session.scalar(
            select(Customer.id).where(
                Customer.rm_id == rm4.id, Customer.restricted.is_(False),  # type: ignore[attr-defined]
                ~exists().where(Holding.customer_id == Customer.id, Holding.amount_fen > 0),
                ~exists().where(Trade.customer_id == Customer.id))
            .order_by(Customer.id.desc()).limit(1))  # type: ignore[union-attr]
        if cid is not None:
            closed = now - timedelta(days=6 * 365)
            session.execute(update(Customer).where(Customer.id == cid).values(
                status="closed", updated_at=closed, created_at=min(closed, now)))


def _burst(crm: Crm, actor: Actor, now: datetime) -> None:
    svc2 = _staff(crm, "svc2")
    if svc2 is None:
        return
    with crm.db.write() as session:
        ids = session.scalars(select(Customer.id).where(Customer.branch_id == svc2.branch_id)
                              .order_by(Customer.id).limit(BURST)).all()
        if len(ids) < BURST:
            return
        start = now - timedelta(hours=2)
        session.execute(insert(AccessLog), [
            {"at": start + timedelta(seconds=20 * n), "staff_id": svc2.id, "staff_name": "svc2",
             "action": "profile", "customer_id": cid, "count": 1, "ids": "",
             "terminal": "ssh:10.31.8.77:50122"} for n, cid in enumerate(ids)])
        total = session.scalar(select(func.count()).select_from(AccessLog)) or 0
        audit.record(crm.db, session, actor, "demo.access_log", "database", "", None,
                     {"access_log": total})


def seed_privacy(crm: Crm, actor: Actor, now: datetime) -> None:
    _consents(crm, actor, now)
    _requests(crm, now)
    _former_customer(crm, now)
    _burst(crm, actor, now)

"""Care automation: birthdays, signing anniversaries and holidays (solar ones such as New
Year and National Day, lunar ones such as Spring Festival and Mid-Autumn via `lunardate`)
become greetings in the outbox, one per customer per channel per occasion (dedupe key),
rendered from the policy's jinja2 templates in a sandbox. Only customers whose newest
consent for marketing by that channel is a grant get one (PIPL). Top-tier customers'
RMs also get a call task."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, extract, select, true
from sqlmodel import Session

from crm_tui.domain.customers.consent import consented_clause
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.policy.service_policy import CarePolicy, Holiday, ServicePolicy
from crm_tui.domain.service.escalation import JOB_ACTOR
from crm_tui.domain.service.outbox import enqueue
from crm_tui.domain.workflow.tasks import create_task
from crm_tui.i18n import catalog
from crm_tui.store.models import Customer, CustomerTag, Staff, Tag

BATCH = 1000
PURPOSE = {"sms": "marketing_sms", "email": "marketing_email"}


@dataclass(frozen=True)
class Occasion:
    key: str  # birthday | anniversary | holiday:<name>
    template: str
    where: ColumnElement[bool]
    holiday: str = ""


def holiday_today(h: Holiday, today: date) -> bool:
    lunar, _, md = h.on.rpartition(":")
    month, day = (int(x) for x in md.split("-"))
    if not lunar:
        return (today.month, today.day) == (month, day)
    from lunardate import LunarDate

    ld = LunarDate.from_solar_date(today.year, today.month, today.day)
    return not ld.is_leap_month and (ld.month, ld.day) == (month, day)


def occasions(care: CarePolicy, today: date) -> list[Occasion]:
    out = []
    if care.birthdays:
        out.append(Occasion("birthday", "birthday", and_(
            extract("month", Customer.birth_date) == today.month,
            extract("day", Customer.birth_date) == today.day)))
    if care.anniversaries:
        # created_at is UTC; a signing before 08:00 in Shanghai is the previous UTC day, so
        # take both and check the local date in Python.
        yesterday = today - timedelta(days=1)
        out.append(Occasion("anniversary", "anniversary", and_(
            extract("month", Customer.created_at).in_((today.month, yesterday.month)),
            extract("day", Customer.created_at).in_((today.day, yesterday.day)))))
    for h in care.holidays:
        if holiday_today(h, today):
            out.append(Occasion(f"holiday:{h.name}", "holiday", true(), h.name))
    return out


@lru_cache(maxsize=32)
def _compiled(text: str):  # type: ignore[no-untyped-def]
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(autoescape=False).from_string(text)


def render(care: CarePolicy, template: str, **values: object) -> tuple[str, str]:
    tpl = care.templates[template]
    return (_compiled(tpl.subject).render(**values).strip(),
            _compiled(tpl.body).render(**values).strip())


def _customers(session: Session, where: ColumnElement[bool], channel: str) -> Iterator[list]:  # type: ignore[type-arg]
    address = (Customer.email != "") if channel == "email" else Customer.phone_enc.is_not(None)  # type: ignore[union-attr]
    last = 0
    while True:
        rows = session.execute(
            select(Customer.id, Customer.name, Customer.rm_id, Customer.aum_fen,
                   Customer.created_at, Staff.display_name)
            .outerjoin(Staff, Staff.id == Customer.rm_id)
            .where(Customer.id > last, Customer.status == "active", where, address,
                   consented_clause(Customer.id, PURPOSE[channel]))
            .order_by(Customer.id).limit(BATCH)).all()
        if not rows:
            return
        last = rows[-1][0]
        yield rows


def _years(created: datetime, today: date, tz: ZoneInfo) -> int | None:
    signed = created.astimezone(tz).date()
    if (signed.month, signed.day) != (today.month, today.day) or signed.year >= today.year:
        return None
    return today.year - signed.year


def run_care(crm: Crm, now: datetime) -> dict[str, int]:
    policy = crm.policy().service
    care = policy.care
    tz = ZoneInfo(policy.calendar.zone)
    today = now.astimezone(tz).date()
    zh = catalog("zh_CN")
    messages = calls = 0
    for occ in occasions(care, today):
        holiday_name = zh.get(f"service.holiday.{occ.holiday}", occ.holiday) if occ.holiday else ""
        for channel in care.channels:
            with crm.db.write() as session:
                for rows in _customers(session, occ.where, channel):
                    for cid, name, _rm, _aum, created, rm_name in rows:
                        years = None
                        if occ.key == "anniversary":
                            years = _years(created, today, tz)
                            if years is None:
                                continue
                        subject, body = render(care, occ.template, name=name, rm=rm_name or "",
                                               bank=care.bank_name, years=years,
                                               holiday=holiday_name)
                        messages += enqueue(session, channel=channel, customer_id=cid,
                                            trigger=occ.key, subject=subject, body=body, now=now,
                                            dedupe_key=f"care:{occ.key}:{today}:{cid}:{channel}")
        calls += _call_tasks(crm, policy, occ, today, now, tz)
    return {"care_messages": messages, "care_calls": calls}


def _call_tasks(crm: Crm, policy: ServicePolicy, occ: Occasion, today: date, now: datetime,
                tz: ZoneInfo) -> int:
    """A call task for the RM of each top-tier customer with this occasion (no consent
    needed: the RM calls her own client)."""
    tops = [t for t in policy.review_tiers if t.top]
    if not tops:
        return 0
    floor = min(int(t.min_aum * 100) for t in tops)
    top_tags = [t.tag for t in tops if t.tag]
    tagged = select(CustomerTag.customer_id).join(Tag, Tag.id == CustomerTag.tag_id).where(
        Tag.name.in_(top_tags))  # type: ignore[attr-defined]
    n = 0
    due = datetime.combine(today, policy.calendar.day_start, tz) + timedelta(
        hours=policy.care.call_due_hours)
    with crm.db.write() as session:
        rows = session.execute(
            select(Customer.id, Customer.name, Customer.rm_id, Customer.aum_fen,
                   Customer.created_at)
            .where(occ.where, Customer.status == "active", Customer.rm_id.is_not(None),  # type: ignore[union-attr]
                   (Customer.aum_fen >= floor) | Customer.id.in_(tagged))  # type: ignore[union-attr]
            .order_by(Customer.id)).all()
        for cid, name, rm_id, _aum, created in rows:
            if occ.key == "anniversary" and _years(created, today, tz) is None:
                continue
            made = create_task(crm.db, session, JOB_ACTOR, owner_id=rm_id, kind="care_call",
                               title_key="service.task.care_call", customer_id=cid,
                               entity="customer", entity_id=cid, due_at=max(due, now),
                               params={"customer": name, "occasion_key":
                                       f"service.occasion.{occ.template}",
                                       "holiday_key": f"service.holiday.{occ.holiday}"
                                       if occ.holiday else ""},
                               dedupe_key=f"care_call:{occ.key}:{today}:{cid}")
            n += made is not None
    return n

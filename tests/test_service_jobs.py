"""The service job: escalation of breaches, review tasks per tier, care greetings on solar
and lunar dates only with consent, and outbox delivery (a real local SMTP server, a retry
after a failure, the SMS spool). Every part is idempotent for the same `now`."""

from __future__ import annotations

import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from crm_tui.domain.customers.consent import record_consent
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.service import tickets
from crm_tui.domain.service.care import run_care
from crm_tui.domain.service.escalation import escalate_breaches
from crm_tui.domain.service.outbox import deliver_due, list_outbox
from crm_tui.domain.service.queue import get_ticket
from crm_tui.domain.service.reviews import complete_review, generate_reviews, period
from crm_tui.domain.service.senders import (
    OutgoingMessage,
    SendError,
    SmtpSender,
    SmtpSettings,
    SpoolSmsSender,
)
from crm_tui.domain.service.service_jobs import run_due
from crm_tui.domain.workflow.notifications import list_notifications
from crm_tui.domain.workflow.tasks import list_tasks
from crm_tui.store.models import Customer, Interaction
from crm_tui.store.models_service import OutboxMessage
from tests.conftest import World
from tests.helpers import make_customer, set_column

SH = ZoneInfo("Asia/Shanghai")


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.mark.pg
def test_escalation_flags_notifies_and_is_idempotent(crm: Crm, world: World) -> None:
    cid = make_customer(crm, world["rm1"], "孙建华")
    tid = tickets.create_ticket(crm, world["svc1"], cid, {"type": "inquiry", "priority": "urgent",
                                                          "subject": "网银登录异常"},
                                now=sh(2026, 12, 7, 9, 0))
    tickets.assign_ticket(crm, world["svc1"], tid, "rm1", now=sh(2026, 12, 7, 9, 5))
    assert escalate_breaches(crm, sh(2026, 12, 7, 9, 59)) == 0
    late = sh(2026, 12, 7, 10, 1)
    assert escalate_breaches(crm, late) == 1
    assert escalate_breaches(crm, late) == 0  # same now: nothing twice
    assert get_ticket(crm, world["svc1"], tid).breached
    keys = [n.message_key for n in list_notifications(crm, world["rm1"])]
    assert keys == ["service.notify.breach_first_response"]
    assert [n.message_key for n in list_notifications(crm, world["sup1"])] == keys  # rm1's team
    # answered late; the resolution deadline (13:00) escalates again when it passes
    tickets.respond(crm, world["rm1"], tid, "已远程协助重置", now=sh(2026, 12, 7, 10, 30))
    assert escalate_breaches(crm, sh(2026, 12, 7, 12, 0)) == 0
    assert escalate_breaches(crm, sh(2026, 12, 7, 13, 1)) == 1
    assert escalate_breaches(crm, sh(2026, 12, 7, 13, 1)) == 0


@pytest.mark.pg
def test_paused_ticket_does_not_breach(crm: Crm, world: World) -> None:
    cid = make_customer(crm, world["rm1"], "孙建华")
    tid = tickets.create_ticket(crm, world["svc1"], cid, {"type": "inquiry", "priority": "urgent",
                                                          "subject": "补充材料"},
                                now=sh(2026, 12, 7, 9, 0))
    tickets.respond(crm, world["svc1"], tid, "请提供流水", now=sh(2026, 12, 7, 9, 10))
    tickets.change_state(crm, world["svc1"], tid, "waiting_customer", now=sh(2026, 12, 7, 9, 20))
    assert escalate_breaches(crm, sh(2026, 12, 9, 9, 0)) == 0


def test_periods() -> None:
    assert period(date(2026, 12, 1), 3) == ("2026Q4", date(2026, 10, 1), date(2026, 12, 31))
    assert period(date(2026, 5, 9), 6) == ("2026H1", date(2026, 1, 1), date(2026, 6, 30))
    assert period(date(2026, 5, 9), 12) == ("2026", date(2026, 1, 1), date(2026, 12, 31))


@pytest.mark.pg
def test_reviews_per_tier_and_completion_records_an_interaction(crm: Crm, world: World) -> None:
    rm = world["rm1"]
    pb = make_customer(crm, rm, "欧阳振华", aum="35,000,000")
    hnw = make_customer(crm, rm, "林雅婷", aum="8,000,000")
    aff = make_customer(crm, rm, "黄志强", aum="900,000")
    mass = make_customer(crm, rm, "张小燕", aum="20,000")
    now = sh(2026, 12, 1, 8, 0)
    assert generate_reviews(crm, now) == 4
    assert generate_reviews(crm, now) == 0
    tasks = {t.customer_id: t for t in list_tasks(crm, rm, limit=50) if t.kind == "review"}
    assert {c: (tasks[c].params["tier"], tasks[c].params["period"]) for c in tasks} == {
        pb: ("private_banking", "2026Q4"), hnw: ("hnw", "2026Q4"), aff: ("affluent", "2026H2"),
        mass: ("mass", "2026")}
    assert tasks[pb].params["script_key"] == "service.script.portfolio_review"
    assert tasks[mass].params["script_key"] == "service.script.satisfaction_call"
    assert all(now <= t.due_at <= sh(2026, 12, 31, 17, 0) for t in tasks.values())
    complete_review(crm, rm, tasks[mass].id, "客户满意度 5 分")
    with crm.db.read() as s:
        subjects = list(s.scalars(select(Interaction.subject).where(Interaction.customer_id == mass)))
    assert subjects == ["Yearly satisfaction call completed"]
    assert generate_reviews(crm, now + timedelta(days=1)) == 0  # done this period: not again


def _consent(crm: Crm, world: World, cid: int, purpose: str, granted: bool = True) -> None:
    record_consent(crm, world["rm1"], cid, purpose, granted, notice_version="2026.1",
                   channel="branch")


@pytest.mark.pg
def test_care_on_a_lunar_holiday_only_with_consent(crm: Crm, world: World) -> None:
    rm = world["rm1"]
    yes = make_customer(crm, rm, "陈美玲", email="chenml@example.cn", aum="7,000,000")
    withdrawn = make_customer(crm, rm, "刘德明", email="liudm@example.cn")
    never = make_customer(crm, rm, "吴秀兰")
    _consent(crm, world, yes, "marketing_sms")
    _consent(crm, world, yes, "marketing_email")
    _consent(crm, world, withdrawn, "marketing_sms")
    _consent(crm, world, withdrawn, "marketing_sms", granted=False)
    mid_autumn = sh(2026, 9, 25, 8, 0)  # lunar 08-15
    counts = run_care(crm, mid_autumn)
    assert counts == {"care_messages": 2, "care_calls": 1}
    assert run_care(crm, mid_autumn) == {"care_messages": 0, "care_calls": 0}
    rows = list_outbox(crm, world["admin"])
    assert {(m.customer_id, m.channel, m.trigger) for m in rows} == {
        (yes, "sms", "holiday:mid_autumn"), (yes, "email", "holiday:mid_autumn")}
    assert "中秋节" in rows[0].body and "陈美玲" in rows[0].body
    assert never not in {m.customer_id for m in rows}
    calls = [t for t in list_tasks(crm, rm) if t.kind == "care_call"]
    assert [t.customer_id for t in calls] == [yes]
    assert run_care(crm, sh(2026, 9, 26, 8, 0)) == {"care_messages": 0, "care_calls": 0}


@pytest.mark.pg
def test_birthday_and_anniversary(crm: Crm, world: World) -> None:
    cid = make_customer(crm, world["rm1"], "郑丽华")
    set_column(crm, cid, birth_date=date(1980, 12, 3),
               created_at=datetime(2021, 12, 2, 17, 0, tzinfo=UTC))  # 12-03 01:00 in Shanghai
    _consent(crm, world, cid, "marketing_sms")
    counts = run_care(crm, sh(2026, 12, 3, 9, 0))
    assert counts["care_messages"] == 2
    bodies = sorted(m.trigger for m in list_outbox(crm, world["admin"]))
    assert bodies == ["anniversary", "birthday"]
    anniversary = next(m for m in list_outbox(crm, world["admin"]) if m.trigger == "anniversary")
    assert "5年" in anniversary.body


class _Flaky:
    def __init__(self, fail: int) -> None:
        self.fail, self.sent = fail, []

    def send(self, message: OutgoingMessage) -> None:
        if self.fail:
            self.fail -= 1
            raise SendError("gateway timeout")
        self.sent.append(message)


def _queued(crm: Crm, world: World, channel: str = "sms") -> int:
    cid = make_customer(crm, world["rm1"], "冯建国", email="fengjg@example.cn")
    _consent(crm, world, cid, f"marketing_{channel}")
    run_care(crm, sh(2026, 10, 1, 8, 0))  # National Day
    with crm.db.read() as s:
        return s.scalars(select(OutboxMessage.id).where(OutboxMessage.channel == channel)).one()


@pytest.mark.pg
def test_failed_send_is_retried_with_backoff_and_never_sent_twice(crm: Crm, world: World) -> None:
    mid = _queued(crm, world)
    sms = _Flaky(fail=1)
    t0 = sh(2026, 10, 1, 9, 0)
    assert deliver_due(crm, t0, {"sms": sms})["outbox_retry"] == 1
    row = list_outbox(crm, world["admin"])[0]
    assert (row.state, row.attempts, row.last_error) == ("retry", 1, "gateway timeout")
    assert row.next_attempt_at == t0 + timedelta(minutes=1)
    assert deliver_due(crm, t0 + timedelta(seconds=30), {"sms": sms})["outbox_sent"] == 0
    assert deliver_due(crm, t0 + timedelta(minutes=1), {"sms": sms})["outbox_sent"] == 1
    assert deliver_due(crm, t0 + timedelta(hours=5), {"sms": sms})["outbox_sent"] == 0
    assert [m.id for m in sms.sent] == [mid]
    assert list_outbox(crm, world["admin"])[0].state == "sent"


@pytest.mark.pg
def test_gives_up_after_the_policy_attempts_and_tells_the_rm(crm: Crm, world: World) -> None:
    _queued(crm, world)
    sms = _Flaky(fail=99)
    at = sh(2026, 10, 1, 9, 0)
    for _ in range(5):
        deliver_due(crm, at, {"sms": sms})
        at += timedelta(hours=3)
    row = list_outbox(crm, world["admin"])[0]
    assert (row.state, row.attempts) == ("failed", 5)
    assert [n.message_key for n in list_notifications(crm, world["rm1"])] == [
        "service.notify.outbox_failed"]


def test_sms_spool_files_are_private_and_whole(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    SpoolSmsSender(spool).send(OutgoingMessage(7, "sms", "13800001111", "", "国庆快乐"))
    files = list(spool.iterdir())
    assert [f.name for f in files] == ["sms-0000000007.json"]
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert "国庆快乐" in files[0].read_text(encoding="utf-8")


@pytest.fixture
def smtp_server():  # type: ignore[no-untyped-def]
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received: list = []

    class Keep(Message):
        def handle_message(self, message) -> None:  # type: ignore[no-untyped-def]
            received.append(message)

    import socket

    with socket.socket() as probe:  # an ephemeral port the OS hands out (Controller cannot
        probe.bind(("127.0.0.1", 0))  # take port 0: it connects to itself to check it is up)
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller, received
    finally:
        controller.stop()


def _port(controller) -> int:  # type: ignore[no-untyped-def]
    return controller.port


@pytest.mark.pg
def test_email_over_smtp_to_a_local_server_after_a_failed_attempt(
        crm: Crm, world: World, smtp_server) -> None:  # type: ignore[no-untyped-def]
    controller, received = smtp_server
    _queued(crm, world, "email")
    at = sh(2026, 10, 1, 9, 0)
    down = SmtpSender(SmtpSettings(host="127.0.0.1", port=1, timeout=2))
    assert deliver_due(crm, at, {"email": down})["outbox_retry"] == 1
    assert "ConnectionRefused" in list_outbox(crm, world["admin"])[0].last_error
    up = SmtpSender(SmtpSettings(host="127.0.0.1", port=_port(controller), timeout=5))
    assert deliver_due(crm, at + timedelta(minutes=1), {"email": up})["outbox_sent"] == 1
    assert len(received) == 1
    mail = received[0]
    assert mail["To"] == "fengjg@example.cn"
    from email.header import decode_header, make_header

    assert "国庆节" in str(make_header(decode_header(mail["Subject"])))
    assert "冯建国" in mail.get_payload(decode=True).decode("utf-8")


@pytest.mark.pg
def test_the_job_is_idempotent(crm: Crm, world: World) -> None:
    cid = make_customer(crm, world["rm1"], "冯建国")
    _consent(crm, world, cid, "marketing_sms")
    with crm.db.write() as s:
        s.execute(update(Customer).where(Customer.id == cid).values(birth_date=date(1975, 10, 1)))
    now = sh(2026, 10, 1, 9, 0)
    first = run_due(crm, now)
    assert first["care_messages"] == 2 and first["review_tasks"] == 1
    again = run_due(crm, now)
    assert again == {k: 0 for k in first}


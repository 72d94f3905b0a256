"""Tickets: SLA arithmetic in business time, routing, the state machine and its refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import Blocked, NotFound, ValidationFailed
from crm_tui.domain.policy.service_policy import ServiceCalendar, ServicePolicy
from crm_tui.domain.service import tickets
from crm_tui.domain.service.calendar import add_business_hours, business_seconds_between
from crm_tui.domain.service.queue import QueueFilter, get_ticket, queue_page
from crm_tui.store.models_service import Ticket
from crm_tui.store.models_workflow import Task
from tests.conftest import World
from tests.helpers import make_customer

SH = ZoneInfo("Asia/Shanghai")
CAL = ServiceCalendar()


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.mark.parametrize(("start", "hours", "due"), [
    (sh(2026, 12, 1, 16, 30), 4, sh(2026, 12, 2, 12, 30)),  # across a night
    (sh(2026, 12, 1, 20, 0), 1, sh(2026, 12, 2, 10, 0)),  # received after hours
    (sh(2026, 12, 4, 16, 0), 2, sh(2026, 12, 7, 10, 0)),  # Friday → Monday (weekend)
    (sh(2026, 9, 30, 16, 0), 2, sh(2026, 10, 8, 10, 0)),  # National Day week off
    (sh(2026, 10, 9, 16, 0), 2, sh(2026, 10, 10, 10, 0)),  # Saturday 10-10 is a make-up day
    (sh(2026, 2, 13, 16, 0), 2, sh(2026, 2, 14, 10, 0)),  # Saturday 02-14 make-up day
    (sh(2026, 2, 14, 16, 0), 2, sh(2026, 2, 24, 10, 0)),  # Spring Festival 02-15..23 off
    (sh(2026, 12, 7, 9, 0), 24, sh(2026, 12, 9, 17, 0)),  # three whole days
])
def test_business_hours(start: datetime, hours: int, due: datetime) -> None:
    assert add_business_hours(CAL, start, hours) == due.astimezone(UTC)


def test_business_seconds_skip_nights_weekends_and_holidays() -> None:
    assert business_seconds_between(CAL, sh(2026, 12, 4, 16, 0), sh(2026, 12, 7, 10, 0)) == 2 * 3600
    assert business_seconds_between(CAL, sh(2026, 9, 30, 9, 0), sh(2026, 10, 8, 9, 0)) == 8 * 3600
    assert business_seconds_between(CAL, sh(2026, 12, 2, 0, 0), sh(2026, 12, 1, 0, 0)) == 0


def test_policy_extra_days_override_the_package() -> None:
    cal = ServiceCalendar(extra_holidays=[datetime(2026, 12, 2).date()],
                          extra_workdays=[datetime(2026, 12, 5).date()])
    # Tue 16:00 + 2h: 1h Tue, Wed off (extra holiday), 1h Thu
    assert add_business_hours(cal, sh(2026, 12, 1, 16, 0), 2) == sh(2026, 12, 3, 10, 0)
    # Fri 16:00 + 2h: 1h Fri, Saturday worked
    assert add_business_hours(cal, sh(2026, 12, 4, 16, 0), 2) == sh(2026, 12, 5, 10, 0)


def test_year_beyond_the_package_falls_back_to_public_holidays() -> None:
    # 2027-10-01 (Friday) is National Day; the next working time is Friday 10-08
    assert add_business_hours(CAL, sh(2027, 9, 30, 16, 0), 2) == sh(2027, 10, 6, 10, 0)


def test_routing_by_type_and_priority() -> None:
    policy = ServicePolicy()
    assert policy.route("complaint", "low").queue == "complaints"
    assert policy.route("inquiry", "urgent").queue == "priority"
    assert policy.route("transaction_help", "normal").queue == "transactions"
    assert policy.route("info_change", "high").queue == "back_office"
    assert policy.route("other", "low").queue == "general"


@pytest.fixture
def customer(crm: Crm, world: World) -> int:
    return make_customer(crm, world["rm1"], "周晓梅")


def _new(crm: Crm, world: World, customer: int, at: datetime, **raw: str) -> int:
    data = {"type": "inquiry", "subject": "理财到期资金去向咨询", **raw}
    return tickets.create_ticket(crm, world["svc1"], customer, data, now=at)


@pytest.mark.pg
def test_create_routes_and_sets_deadlines(crm: Crm, world: World, customer: int) -> None:
    tid = _new(crm, world, customer, sh(2026, 12, 4, 16, 0), priority="high",
               type="transaction_help")
    row = get_ticket(crm, world["svc1"], tid)
    assert (row.queue, row.state, row.priority) == ("transactions", "new", "high")
    assert row.first_response_due == sh(2026, 12, 7, 10, 0)
    assert row.resolution_due == sh(2026, 12, 7, 16, 0)  # 8 business hours: 1 Fri + 7 Mon
    assert row.next_due_at == row.first_response_due
    with pytest.raises(ValidationFailed) as err:
        tickets.create_ticket(crm, world["svc1"], customer, {"type": "rumour", "subject": ""})
    assert set(err.value.by_field()) == {"type", "subject"}


def test_complaint_is_capped_at_calendar_days_from_receipt() -> None:
    from crm_tui.domain.policy.service_policy import ComplaintPolicy

    policy = ServicePolicy(complaints=ComplaintPolicy(resolution_days=3))
    start = sh(2026, 9, 30, 10, 0)  # 40 business hours would run to 10-13 (National Day)
    first, resolution = tickets.sla_deadlines(policy, "complaint", "low", start)
    assert resolution == sh(2026, 10, 3, 10, 0)
    assert first == sh(2026, 10, 3, 10, 0)  # never later than the resolution
    _, plain = tickets.sla_deadlines(policy, "inquiry", "low", start)
    assert plain == sh(2026, 10, 13, 10, 0)


@pytest.mark.pg
def test_complaint_ticket_opens_its_loop(crm: Crm, world: World, customer: int) -> None:
    from crm_tui.store.models_service import Complaint

    tid = _new(crm, world, customer, sh(2026, 9, 24, 10, 0), type="complaint")
    row = get_ticket(crm, world["svc1"], tid)
    assert row.queue == "complaints"
    with crm.db.read() as s:
        c = s.scalars(select(Complaint).where(Complaint.ticket_id == tid)).one()
    assert (c.step, c.due_at) == ("received", sh(2026, 10, 9, 10, 0))


@pytest.mark.pg
def test_states_pause_and_refusals(crm: Crm, world: World, customer: int) -> None:
    svc = world["svc1"]
    tid = _new(crm, world, customer, sh(2026, 12, 7, 9, 0))
    with pytest.raises(Blocked) as err:
        tickets.change_state(crm, svc, tid, "waiting_customer", now=sh(2026, 12, 7, 9, 5))
    assert "new" in err.value.message
    with pytest.raises(Blocked):
        tickets.change_state(crm, svc, tid, "closed")
    tickets.assign_ticket(crm, svc, tid, now=sh(2026, 12, 7, 9, 10))
    tickets.respond(crm, svc, tid, "已联系客户，请其补充身份证复印件", now=sh(2026, 12, 7, 9, 30))
    tickets.change_state(crm, svc, tid, "waiting_customer", now=sh(2026, 12, 7, 10, 0))
    assert get_ticket(crm, svc, tid).paused
    tickets.change_state(crm, svc, tid, "in_progress", now=sh(2026, 12, 8, 10, 0))
    row = get_ticket(crm, svc, tid)
    assert not row.paused
    assert row.first_response_at == sh(2026, 12, 7, 9, 30)
    # 24 h due Wed 12-09 17:00, paused 8 business hours → Thu 12-10 17:00
    assert row.resolution_due == sh(2026, 12, 10, 17, 0)
    tickets.resolve_ticket(crm, svc, tid, "客户已补充材料，业务办结", now=sh(2026, 12, 8, 11, 0))
    tickets.record_csat(crm, svc, tid, 5)
    row = get_ticket(crm, svc, tid)
    assert (row.state, row.csat, row.first_contact_resolution, row.next_due_at) == (
        "resolved", 5, False, None)
    with pytest.raises(ValidationFailed):
        tickets.record_csat(crm, svc, tid, 6)
    tickets.change_state(crm, svc, tid, "closed", now=sh(2026, 12, 8, 12, 0))
    tickets.change_state(crm, svc, tid, "in_progress", now=sh(2026, 12, 9, 9, 0))  # reopen
    with crm.db.read() as s:
        t = s.scalars(select(Ticket).where(Ticket.id == tid)).one()
        assert (t.state, t.reopened, t.closed_at) == ("in_progress", 1, None)
        tasks = s.scalars(select(Task).where(Task.entity == "ticket", Task.entity_id == tid,
                                             Task.status == "open")).all()
        assert [x.owner_id for x in tasks] == [svc.id]


@pytest.mark.pg
def test_first_contact_resolution_and_scope(crm: Crm, world: World, customer: int) -> None:
    tid = _new(crm, world, customer, sh(2026, 12, 7, 9, 0))
    tickets.resolve_ticket(crm, world["rm1"], tid, "当场解答", now=sh(2026, 12, 7, 9, 10))
    assert get_ticket(crm, world["rm1"], tid).first_contact_resolution is True
    with pytest.raises(NotFound):
        get_ticket(crm, world["rm_sh"], tid)  # another branch's RM
    with pytest.raises(NotFound):
        tickets.respond(crm, world["rm_sh"], tid, "x")
    with pytest.raises(Blocked):  # a resolved ticket is reopened, not answered
        tickets.respond(crm, world["rm1"], tid, "补充说明")


@pytest.mark.pg
def test_queue_pages_in_time_to_breach_order(crm: Crm, world: World, customer: int) -> None:
    ids = [_new(crm, world, customer, sh(2026, 12, 7, 9, m), priority=p)
           for m, p in ((0, "low"), (1, "urgent"), (2, "normal"), (3, "high"))]
    first = queue_page(crm, world["svc1"], limit=2)
    assert [r.id for r in first] == [ids[1], ids[3]]
    rest = queue_page(crm, world["svc1"], after=(first[-1].next_due_at, first[-1].id), limit=2)
    assert [r.id for r in rest] == [ids[2], ids[0]]
    assert [r.id for r in queue_page(crm, world["svc1"], QueueFilter(priority="urgent"))] == [ids[1]]
    tickets.assign_ticket(crm, world["svc1"], ids[0])
    assert [r.id for r in queue_page(crm, world["svc1"], QueueFilter(view="mine"))] == [ids[0]]
    assert queue_page(crm, world["rm_sh"]) == []

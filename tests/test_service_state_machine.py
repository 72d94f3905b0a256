"""The ticket state machine under random operations (hypothesis): whatever the order of
take, respond, pause, resume, resolve, close and reopen — allowed or refused — the ticket's
clocks stay consistent with its state, and a refused step changes nothing."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import select
from sqlmodel import SQLModel

from crm_tui.domain.kernel.errors import Blocked
from crm_tui.domain.service import tickets
from crm_tui.store.models_service import Ticket
from tests.conftest import _sqlite_db, build_world, make_crm
from tests.helpers import make_customer

SH = ZoneInfo("Asia/Shanghai")
ACTIONS = ("take", "respond", "wait", "resume", "resolve", "close")


class TicketMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        tmp = Path(tempfile.mkdtemp())
        db = _sqlite_db(tmp)
        SQLModel.metadata.create_all(db.write_engine)
        self.crm = make_crm(db, tmp)
        self.world = build_world(self.crm)
        self.svc = self.world["svc1"]
        cid = make_customer(self.crm, self.world["rm1"], "周晓梅")
        self.now = datetime(2026, 12, 7, 9, 0, tzinfo=SH)
        self.tid = tickets.create_ticket(self.crm, self.svc, cid, {
            "type": "inquiry", "priority": "high", "subject": "网银登录异常"}, now=self.now)

    def _row(self) -> Ticket:
        with self.crm.db.read() as s:
            row = s.scalars(select(Ticket).where(Ticket.id == self.tid)).one()
            s.expunge(row)
            return row

    @rule(action=st.sampled_from(ACTIONS), minutes=st.integers(1, 600))
    def act(self, action: str, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)
        before = self._row()
        crm, svc, tid, now = self.crm, self.svc, self.tid, self.now
        calls = {
            "take": lambda: tickets.assign_ticket(crm, svc, tid, now=now),
            "respond": lambda: tickets.respond(crm, svc, tid, "已回复", now=now),
            "wait": lambda: tickets.change_state(crm, svc, tid, "waiting_customer", now=now),
            "resume": lambda: tickets.change_state(crm, svc, tid, "in_progress", now=now),
            "resolve": lambda: tickets.resolve_ticket(crm, svc, tid, "已解决", now=now),
            "close": lambda: tickets.change_state(crm, svc, tid, "closed", now=now),
        }
        try:
            calls[action]()
        except Blocked:
            after = self._row()
            assert (after.state, after.version, after.resolution_due) == (
                before.state, before.version, before.resolution_due)
            return
        after = self._row()
        assert after.version == before.version + 1
        assert after.resolution_due >= before.resolution_due  # a pause only ever extends it

    @invariant()
    def clocks_match_the_state(self) -> None:
        t = self._row()
        assert (t.next_due_at is None) == (t.state in ("resolved", "closed"))
        assert (t.paused_at is not None) == (t.state == "waiting_customer")
        assert (t.resolved_at is not None) == (t.state in ("resolved", "closed"))
        assert (t.closed_at is not None) == (t.state == "closed")
        if t.state != "new":
            assert t.assignee_id == self.svc.id
        if t.state in ("waiting_customer", "resolved", "closed"):
            assert t.first_response_at is not None
        if t.first_contact_resolution:
            assert t.reopened == 0


TicketMachine.TestCase.settings = settings(max_examples=8, stateful_step_count=10,
                                           deadline=None,
                                           suppress_health_check=[HealthCheck.too_slow])
test_ticket_state_machine = TicketMachine.TestCase

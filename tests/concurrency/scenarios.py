"""The concurrency scenarios: customer edits, two checkers racing on one approval level,
agents answering the same tickets, and supervisors working the same leads (`leads.py`).

Customer edits and sensitive-change approvals touch the same customers on purpose: an
approval applies only if the customer did not change since the request (else it closes as
stale and says so), and an edit conflicts with an approved change like with any other edit.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select

from crm_tui.domain.compliance import approvals, sensitive_changes
from crm_tui.domain.customers import records
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import Conflict, DomainError
from crm_tui.store.models import AuditEvent, Customer
from crm_tui.store.models_compliance import ApprovalDecision, ApprovalRequest
from tests.concurrency.harness import Op, Outcome
from tests.concurrency.leads import LeadRace

EDITORS = ("rm1", "sup1", "bh1")  # rm1's customers are in all three scopes


def _customers(crm: Crm, actors: dict[str, Actor], size: int, tag: str) -> list[int]:
    from tests.helpers import make_customer

    letters = [f"{chr(65 + i % 26)}{chr(65 + i // 26)}" for i in range(size)]  # names hold no digits
    return [make_customer(crm, actors["rm1"], f"并发{tag}{x}") for x in letters]


def _version(crm: Crm, customer_id: int) -> int:
    with crm.db.read() as s:
        return s.scalar(select(Customer.version).where(Customer.id == customer_id)) or 0


class CustomerEdits:
    """Read the version, think a little, save: the classic lost-update race."""

    name = "customer_edits"

    def setup(self, crm: Crm, actors: dict[str, Actor], size: int) -> dict[str, Any]:
        return {"customers": _customers(crm, actors, size, "编辑")}

    def plan(self, state: dict[str, Any], workers: int, rounds: int,
             rng: random.Random) -> list[list[Op]]:
        return [[{"op": "edit", "customer": rng.choice(state["customers"]),
                  "editor": EDITORS[w % len(EDITORS)], "value": f"w{w}r{r}"}
                 for r in range(rounds)] for w in range(workers)]

    def run(self, crm: Crm, actors: dict[str, Actor], op: Op) -> Outcome:
        version = _version(crm, op["customer"])
        time.sleep(random.uniform(0, 0.005))  # the user typing
        try:
            new = records.update_customer(crm, actors[op["editor"]], op["customer"], version,
                                          {"occupation": op["value"]})
        except Conflict as exc:
            return Outcome(0, op, "conflict", exc.message)
        return Outcome(0, op, "ack", new)

    def check(self, crm: Crm, state: dict[str, Any], outcomes: list[Outcome]) -> list[str]:
        problems = []
        acks = defaultdict(list)
        for o in outcomes:
            if o.kind == "ack":
                acks[o.op["customer"]].append((o.detail, o.op["value"]))
            elif o.kind == "conflict" and "Changed by" not in o.detail:
                problems.append(f"conflict without who/when: {o.detail}")
        with crm.db.read() as s:
            for cid in state["customers"]:
                c = s.get(Customer, cid)
                assert c is not None
                mine = sorted(acks[cid])
                versions = [v for v, _ in mine]
                applied = s.scalar(select(func.count()).select_from(AuditEvent).where(
                    AuditEvent.action == "customer.sensitive_change", AuditEvent.entity == "customer",
                    AuditEvent.entity_id == str(cid))) or 0
                if len(set(versions)) != len(versions):
                    problems.append(f"customer {cid}: two saves acknowledged as one version {versions}")
                if c.version != 1 + len(versions) + applied:
                    problems.append(f"customer {cid}: version {c.version}, but {len(versions)} "
                                    f"acknowledged edits and {applied} approved changes")
                if mine and mine[-1][1] != c.occupation and versions[-1] == c.version:
                    problems.append(f"customer {cid}: last acknowledged value {mine[-1][1]!r} "
                                    f"lost, found {c.occupation!r}")
                events = s.scalars(select(AuditEvent.after).where(
                    AuditEvent.action == "customer.update", AuditEvent.entity_id == str(cid))).all()
                stored = Counter(json.loads(e).get("occupation") for e in events)
                for _, value in mine:
                    if stored[value] != 1:
                        problems.append(f"customer {cid}: acknowledged {value!r} audited "
                                        f"{stored[value]} times")
                if sum(stored.values()) != len(mine):
                    problems.append(f"customer {cid}: {sum(stored.values())} audited edits, "
                                    f"{len(mine)} acknowledged")
        return problems


class ApprovalRace:
    """rm1 asks for a phone change; two supervisors approve the one level at the same time."""

    name = "approval_race"
    CHECKERS = ("sup1", "sup1b")

    def setup(self, crm: Crm, actors: dict[str, Actor], size: int) -> dict[str, Any]:
        from crm_tui.domain.admin.auth import actor_of
        from crm_tui.store.models import Staff

        with crm.db.write() as s:  # a second supervisor of 财富一组, so both may decide
            sup1 = actors["sup1"]
            twin = Staff(username="sup1b", display_name="陈静二", role="supervisor",
                         branch_id=sup1.branch_id, team_id=sup1.team_id)
            s.add(twin)
            s.flush()
            actors["sup1b"] = actor_of(twin)
        customers = _customers(crm, actors, size, "审批")
        requests = [sensitive_changes.request_change(crm, actors["rm1"], cid, "phone",
                                                     f"1370000{i:04d}", "客户来电更新")
                    for i, cid in enumerate(customers)]
        return {"customers": customers, "requests": requests}

    def plan(self, state: dict[str, Any], workers: int, rounds: int,
             rng: random.Random) -> list[list[Op]]:
        plans: list[list[Op]] = [[] for _ in range(workers)]
        for i, rid in enumerate(state["requests"]):
            for j, checker in enumerate(self.CHECKERS):  # the two land in different workers
                plans[(i + j) % workers].append({"op": "approve", "request": rid,
                                                 "checker": checker})
            # and an RM edits the same customer meanwhile (the approval may go stale)
            plans[(i + 2) % workers].append({"op": "edit", "customer": state["customers"][i],
                                             "value": f"审批中编辑{i}"})
        return plans

    def run(self, crm: Crm, actors: dict[str, Actor], op: Op) -> Outcome:
        if op["op"] == "edit":
            try:
                records.update_customer(crm, actors["rm1"], op["customer"],
                                        _version(crm, op["customer"]), {"occupation": op["value"]})
            except Conflict as exc:
                return Outcome(0, op, "conflict", exc.message)
            return Outcome(0, op, "ack", "edit")
        try:
            status = approvals.approve(crm, actors[op["checker"]], op["request"], "核实无误")
        except DomainError as exc:
            return Outcome(0, op, "refused", exc.key)
        return Outcome(0, op, "ack", status)

    def check(self, crm: Crm, state: dict[str, Any], outcomes: list[Outcome]) -> list[str]:
        problems = []
        with crm.db.read() as s:
            for rid in state["requests"]:
                req = s.get(ApprovalRequest, rid)
                assert req is not None
                decisions = s.scalar(select(func.count()).select_from(ApprovalDecision)
                                     .where(ApprovalDecision.request_id == rid)) or 0
                tries = [o for o in outcomes if o.op.get("request") == rid]
                acked = [o for o in tries if o.kind == "ack"]
                if req.status == "approved":
                    if decisions != 1 or len(acked) != 1:
                        problems.append(f"request {rid}: approved with {decisions} decisions, "
                                        f"{len(acked)} acknowledged")
                elif req.status == "stale":
                    if acked or decisions:
                        problems.append(f"request {rid}: stale but {len(acked)} approvals acked")
                    if not any(o.detail == "compliance.error.stale" for o in tries):
                        problems.append(f"request {rid}: closed stale and nobody was told")
                elif not any(o.detail == "compliance.error.stale" for o in tries):
                    # an approval whose apply lost to an edit rolls back and says "stale";
                    # the request stays pending until the next decider closes it
                    problems.append(f"request {rid}: still {req.status}, nobody told why")
                for o in tries:
                    if o.kind == "refused" and o.detail not in (
                            "compliance.error.closed", "compliance.error.stale"):
                        problems.append(f"request {rid}: unexpected refusal {o.detail}")
        return problems


class TicketResponses:
    """Service agents answer the same tickets at once, each with the version she saw."""

    name = "ticket_responses"
    AGENT = "svc1"

    def setup(self, crm: Crm, actors: dict[str, Actor], size: int) -> dict[str, Any]:
        from crm_tui.domain.service import tickets

        customers = _customers(crm, actors, size, "工单")
        ids = [tickets.create_ticket(crm, actors[self.AGENT], cid,
                                     {"type": "inquiry", "subject": "理财到期资金去向咨询"})
               for cid in customers]
        return {"tickets": ids}

    def plan(self, state: dict[str, Any], workers: int, rounds: int,
             rng: random.Random) -> list[list[Op]]:
        return [[{"op": "respond", "ticket": rng.choice(state["tickets"]), "note": f"回复w{w}r{r}"}
                 for r in range(max(1, rounds // 3))] for w in range(workers)]

    def run(self, crm: Crm, actors: dict[str, Actor], op: Op) -> Outcome:
        from crm_tui.domain.service import tickets
        from crm_tui.store.models_service import Ticket

        with crm.db.read() as s:
            version = s.scalar(select(Ticket.version).where(Ticket.id == op["ticket"]))
        time.sleep(random.uniform(0, 0.005))
        try:
            tickets.respond(crm, actors[self.AGENT], op["ticket"], op["note"], version=version)
        except Conflict as exc:
            return Outcome(0, op, "conflict", exc.message)
        return Outcome(0, op, "ack", version)

    def check(self, crm: Crm, state: dict[str, Any], outcomes: list[Outcome]) -> list[str]:
        from crm_tui.store.models_service import Ticket

        problems = []
        with crm.db.read() as s:
            for tid in state["tickets"]:
                t = s.get(Ticket, tid)
                assert t is not None
                acked = [o for o in outcomes if o.op["ticket"] == tid and o.kind == "ack"]
                seen = [o.detail for o in acked]
                if len(set(seen)) != len(seen):
                    problems.append(f"ticket {tid}: two answers acknowledged on version {seen}")
                audited = s.scalar(select(func.count()).select_from(AuditEvent).where(
                    AuditEvent.action == "ticket.respond", AuditEvent.entity_id == str(tid))) or 0
                if audited != len(acked):
                    problems.append(f"ticket {tid}: {audited} audited answers, {len(acked)} acked")
        return problems


SCENARIOS = [CustomerEdits(), ApprovalRace(), TicketResponses(), LeadRace()]

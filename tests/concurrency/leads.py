"""Leads under concurrent hands: supervisors reassign, log the first contact and convert the
same leads at once.

Lead commands take the lead's row lock (`SELECT … FOR UPDATE`; on SQLite the write
transaction is `BEGIN IMMEDIATE`), so nothing is lost by being overwritten; what has to hold
is that each command saw the one before it. The audit trail shows it: every assignment's
"before" owner is the previous assignment's "after" owner, the lead's version moved exactly
once per audited change, a lead converts once (one customer, one opportunity), and nothing
changes a lead after its conversion. A command that lost the race to a conversion is told
("lead closed"), never silently applied.
"""

from __future__ import annotations

import json
import random
import time
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select

from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import DomainError
from crm_tui.store.models import AuditEvent
from tests.concurrency.harness import Op, Outcome

ACTIONS = ("lead.assign", "lead.contact", "lead.convert")  # the ones that bump the version
EXPECTED_REFUSALS = ("sales.error.lead_closed", "sales.error.not_contacted")


class LeadRace:
    """Two supervisors' worth of hands (sup1, bh1) on the same few leads of rm1 and rm2."""

    name = "lead_race"
    HANDS = ("sup1", "bh1")
    OWNERS = ("rm1", "rm2")

    def setup(self, crm: Crm, actors: dict[str, Actor], size: int) -> dict[str, Any]:
        from crm_tui.domain.sales import leads
        from crm_tui.store.models_sales import Lead
        from tests.conftest import valid_id

        ids = []
        for i in range(size):
            lid = leads.create_lead(crm, actors["sup1"], {
                "name": f"并发线索{chr(65 + i % 26)}{chr(65 + i // 26)}", "source": "web",
                "branch_code": "BJ01", "phone": f"1390000{i:04d}",
                "national_id": valid_id(f"11010519900307{i:03d}"), "estimated_assets": "300000"})
            leads.reassign(crm, actors["sup1"], lid, "rm1")  # whatever the shipped rules did
            ids.append(lid)
        with crm.db.read() as s:
            versions = dict(s.execute(select(Lead.id, Lead.version).where(Lead.id.in_(ids))).all())
            mark = s.scalar(select(func.max(AuditEvent.id))) or 0
        return {"leads": ids, "versions": versions, "audit_mark": mark}

    def plan(self, state: dict[str, Any], workers: int, rounds: int,
             rng: random.Random) -> list[list[Op]]:
        plans: list[list[Op]] = []
        for w in range(workers):
            ops: list[Op] = []
            for r in range(rounds):
                kind = rng.choices(("reassign", "contact", "convert"), (5, 3, 2))[0]
                ops.append({"op": kind, "lead": rng.choice(state["leads"]),
                            "hand": self.HANDS[(w + r) % len(self.HANDS)],
                            "to": rng.choice(self.OWNERS), "note": f"w{w}r{r}"})
            plans.append(ops)
        return plans

    def run(self, crm: Crm, actors: dict[str, Actor], op: Op) -> Outcome:
        from crm_tui.domain.sales import conversion, leads

        hand = actors[op["hand"]]
        time.sleep(random.uniform(0, 0.005))  # the user deciding
        try:
            if op["op"] == "reassign":
                leads.reassign(crm, hand, op["lead"], op["to"])
                return Outcome(0, op, "ack", op["to"])
            if op["op"] == "contact":
                leads.record_contact(crm, hand, op["lead"], op["note"])
                return Outcome(0, op, "ack", "contacted")
            return Outcome(0, op, "ack", conversion.convert_lead(crm, hand, op["lead"]))
        except DomainError as exc:
            return Outcome(0, op, "refused", exc.key)

    def check(self, crm: Crm, state: dict[str, Any], outcomes: list[Outcome]) -> list[str]:
        from crm_tui.store.models_sales import Lead, Opportunity

        problems = [f"lead {o.op['lead']}: {o.op['op']} refused with {o.detail}"
                    for o in outcomes if o.kind == "refused" and o.detail not in EXPECTED_REFUSALS]
        acked: dict[tuple[int, str], int] = defaultdict(int)
        for o in outcomes:
            if o.kind == "ack":
                acked[(o.op["lead"], o.op["op"])] += 1
        with crm.db.read() as s:
            for lid in state["leads"]:
                lead = s.get(Lead, lid)
                assert lead is not None
                events = s.execute(select(AuditEvent.id, AuditEvent.action, AuditEvent.before,
                                          AuditEvent.after)
                                   .where(AuditEvent.entity == "lead",
                                          AuditEvent.entity_id == str(lid))
                                   .order_by(AuditEvent.id)).all()
                problems += self._chain(lid, lead.owner_id, events)
                new = [e for e in events if e.id > state["audit_mark"]]
                count = {a: sum(e.action == a for e in new) for a in (*ACTIONS, "lead.reassign")}
                bumps = sum(count[a] for a in ACTIONS)
                if lead.version != state["versions"][lid] + bumps:
                    problems.append(f"lead {lid}: version {lead.version}, expected "
                                    f"{state['versions'][lid]} + {bumps} audited changes")
                if count["lead.contact"] != acked[(lid, "contact")]:
                    problems.append(f"lead {lid}: {count['lead.contact']} audited contacts, "
                                    f"{acked[(lid, 'contact')]} acknowledged")
                if count["lead.reassign"] > acked[(lid, "reassign")]:
                    problems.append(f"lead {lid}: {count['lead.reassign']} audited reassignments, "
                                    f"only {acked[(lid, 'reassign')]} acknowledged")
                if count["lead.assign"] != count["lead.reassign"]:
                    problems.append(f"lead {lid}: {count['lead.assign']} assignments for "
                                    f"{count['lead.reassign']} reassignments")
                converts = acked[(lid, "convert")]
                opps = s.scalar(select(func.count()).select_from(Opportunity)
                                .where(Opportunity.lead_id == lid)) or 0
                if converts > 1 or count["lead.convert"] != converts or opps != converts:
                    problems.append(f"lead {lid}: {converts} conversions acknowledged, "
                                    f"{count['lead.convert']} audited, {opps} opportunities")
                if converts and (lead.status != "converted" or lead.customer_id is None):
                    problems.append(f"lead {lid}: converted but {lead.status}, "
                                    f"customer {lead.customer_id}")
                done = [e.id for e in new if e.action == "lead.convert"]
                late = [e.action for e in new if done and e.id > done[0]]
                if late:
                    problems.append(f"lead {lid}: {late} after its conversion")
        return problems

    @staticmethod
    def _chain(lid: int, owner: int | None, events: list[Any]) -> list[str]:
        """Each assignment started from the owner the previous one left (no lost update)."""
        problems, last = [], None
        for e in events:
            if e.action != "lead.assign":
                continue
            before, after = json.loads(e.before or "{}"), json.loads(e.after or "{}")
            if last is not None and before.get("owner_id") != last:
                problems.append(f"lead {lid}: assignment {e.id} started from owner "
                                f"{before.get('owner_id')}, the previous one left {last}")
            last = after.get("owner_id")
        if last is not None and owner != last:
            problems.append(f"lead {lid}: owner {owner}, the last assignment says {last}")
        return problems

"""The compliance part of `crm demo`: work waiting in the approval inbox and the alert list.

Written after the bulk seed, and only through the domain functions staff use (asking for a
sensitive change, recording a sale, deciding, importing the core-banking feed), so every
rule applies and every step writes its own audit event. What a demo user finds:

- sup1 (陈静, team 财富管理一组): three sensitive changes to decide (two by rm1, one by
  rm2) and rm1's 3,000,000 subscription at its first level; once sup1 approves it, it
  waits for bh1 (branch head), and only then executes;
- comp1: a suitability override (a C3 customer buying an R4 fund, which the default
  policy sells only after compliance approves), with the risk assessment as evidence;
- the History tab: a phone change rm1 asked for yesterday and sup1 approved;
- risk1 and comp1: two open alerts from a feed replay: a high one (three cross-border
  transfers in a week) that freezes 陈志强, and failed logins on 张子涵's app account.

The bulk seed is one transaction; these steps are one transaction each, as they are for
staff. Requests are dated a few hours before `now` so the inbox shows believable ages.
A demo too small to hold a customer skips the steps that need that customer.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from crm_tui.domain.admin.auth import actor_of
from crm_tui.domain.compliance import approvals
from crm_tui.domain.compliance.event_feed import import_events
from crm_tui.domain.compliance.sensitive_changes import request_change
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.sales.transactions import record_transaction
from crm_tui.i18n import render
from crm_tui.store.models import Customer, Staff


@dataclass(frozen=True)
class ComplianceSeed:
    pending: tuple[int, ...]  # request ids still waiting for a decision
    decided: tuple[int, ...]
    alerts: tuple[int, ...]


def _staff(crm: Crm, username: str) -> Actor:
    with crm.db.read() as session:
        row = session.scalars(select(Staff).where(Staff.username == username)).one()
        return actor_of(row)


def _customer(crm: Crm, rm: Actor, name: str | None = None) -> int | None:
    """The RM's customer of that name (the showcase's, inserted first), or her first."""
    q = select(Customer.id).where(Customer.rm_id == rm.id)
    if name is not None:
        q = q.where(Customer.name == name)
    with crm.db.read() as session:
        return session.scalar(q.order_by(Customer.id).limit(1))


def _new_phone(crm: Crm, customer_id: int, candidates: tuple[str, ...]) -> str:
    """The first candidate that differs from the phone on file (asking for no change is
    refused by the domain)."""
    with crm.db.read() as session:
        enc = session.scalar(select(Customer.phone_enc).where(Customer.id == customer_id))
    current = crm.keys.decrypt("phone", enc)
    return next(p for p in candidates if p != current)


def _sensitive_changes(crm: Crm, now: datetime, rm1: Actor, rm2: Actor, sup1: Actor
                       ) -> tuple[list[int], list[int]]:
    pending: list[int] = []
    decided: list[int] = []
    zhang = _customer(crm, rm1, "张三")
    if zhang is not None:
        pending.append(request_change(
            crm, rm1, zhang, "phone", _new_phone(crm, zhang, ("13910246688", "13910246699")),
            reason="客户更换手机号码，已在柜面核验本人身份证原件并留存变更申请书",
            now=now - timedelta(hours=3, minutes=10)))
    father = _customer(crm, rm1, "张建国")
    if father is not None:
        pending.append(request_change(
            crm, rm1, father, "bank_account", "6217000010082466957",
            reason="原借记卡挂失换卡，客户申请将理财资金账户变更为新卡",
            now=now - timedelta(days=1, hours=2)))
    other = _customer(crm, rm2)
    if other is not None:
        pending.append(request_change(
            crm, rm2, other, "phone", _new_phone(crm, other, ("18601357924", "18601357935")),
            reason="客户来电告知号码变更，已通过视频双录核实身份",
            now=now - timedelta(minutes=50)))
    newcomer = _customer(crm, rm1, "周晓梅")
    if newcomer is not None:
        asked = now - timedelta(days=1, hours=6)
        rid = request_change(
            crm, rm1, newcomer, "phone", _new_phone(crm, newcomer, ("15201234876", "15201234877")),
            reason="新开户时登记号码有误，客户持身份证到网点更正", now=asked)
        approvals.approve(crm, sup1, rid, "已电话回访客户本人，号码核实无误",
                          now=asked + timedelta(hours=2))
        decided.append(rid)
    return pending, decided


def _sales(crm: Crm, now: datetime, rm1: Actor) -> list[int]:
    """A large subscription climbing supervisor → branch head, and a suitability override."""
    out: list[int] = []
    partner = _customer(crm, rm1, "赵德明")  # C3, KYC complete: R3 is allowed outright
    if partner is not None:
        sale = record_transaction(crm, rm1, partner, "subscription", "3000000",
                                  product_code="FD0004", now=now - timedelta(hours=5, minutes=20))
        if sale.request_id is not None:
            out.append(sale.request_id)
    wife = _customer(crm, rm1, "李梅")  # C3 × R4: the policy asks compliance to approve
    if wife is not None:
        sale = record_transaction(crm, rm1, wife, "subscription", "300000",
                                  product_code="FD0005", now=now - timedelta(hours=2, minutes=5))
        if sale.request_id is not None:
            out.append(sale.request_id)
    return out


def _feed_lines(crm: Crm, now: datetime, rm1: Actor) -> list[dict[str, Any]]:
    """A day of the core-banking feed: ordinary logins and transfers, three cross-border
    transfers by one customer within a week (high alert, freeze), and a burst of failed
    app logins by another (an ordinary alert)."""
    lines: list[dict[str, Any]] = []

    def add(kind: str, cid: int, when: datetime, **extra: Any) -> None:
        lines.append({"event_id": f"DEMO-CORE-{len(lines) + 1:05d}", "type": kind,
                      "customer_id": cid, "occurred_at": when.astimezone(crm.tz).isoformat(),
                      **extra})

    trader = _customer(crm, rm1, "陈志强")
    son = _customer(crm, rm1, "张子涵")
    zhang = _customer(crm, rm1, "张三")
    for cid in (c for c in (zhang, trader, son) if c is not None):
        for days in (6, 2):
            add("login", cid, now - timedelta(days=days, hours=3), success="true", region="北京")
    if zhang is not None:
        add("transaction", zhang, now - timedelta(days=4), tx_kind="transfer", amount="50000")
    if trader is not None:
        for days, amount in ((6, "180000"), (3, "200000"), (1, "160000")):
            add("transaction", trader, now - timedelta(days=days, hours=1),
                tx_kind="cross_border", amount=amount)
    if son is not None:
        start = now - timedelta(hours=7)
        for minute in range(5):
            add("login", son, start + timedelta(minutes=2 * minute), success="false",
                region="北京")
    return lines


def _feed(crm: Crm, actor: Actor, now: datetime, rm1: Actor) -> list[int]:
    lines = _feed_lines(crm, now, rm1)
    if not lines:
        return []
    with tempfile.TemporaryDirectory(prefix="crm-demo-feed-") as tmp:
        path = Path(tmp) / "core_events.jsonl"
        path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines),
                        encoding="utf-8")
        report = import_events(crm, actor, path)
    if report.errors:  # the lines are ours: a refusal here is a bug in this module
        raise ValueError("; ".join(render(e.note) for e in report.errors))
    return list(report.alerts)


def seed_compliance(crm: Crm, actor: Actor, now: datetime) -> ComplianceSeed:
    """Fill the inbox and the alert list of a freshly seeded demo branch (see the module
    docstring). `actor` is the operator running `crm demo` (she imports the feed)."""
    rm1, rm2, sup1 = (_staff(crm, u) for u in ("rm1", "rm2", "sup1"))
    pending, decided = _sensitive_changes(crm, now, rm1, rm2, sup1)
    pending += _sales(crm, now, rm1)
    alerts = _feed(crm, actor, now, rm1)  # last: a freeze would refuse the requests above
    return ComplianceSeed(tuple(pending), tuple(decided), tuple(alerts))

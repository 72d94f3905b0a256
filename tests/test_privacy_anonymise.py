"""Retention and anonymisation: `crm jobs run` opens one batch of what is due; nothing changes
until compliance approves it; then no personal value is left (SQL, and on SQLite a grep of the
database file and its WAL), the KPI figures are the same and the audit chain verifies."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from crm_tui.domain.compliance import approvals
from crm_tui.domain.kernel import audit
from crm_tui.domain.privacy import requests, retention
from crm_tui.domain.workflow.jobs import run_all
from crm_tui.store.models import Customer, Interaction, KycDocument, Trade
from crm_tui.store.models_compliance import ApprovalRequest
from crm_tui.store.models_privacy import AnonymisationBatch
from crm_tui.store.models_service import Complaint, OutboxMessage, Ticket
from crm_tui.store.types import utcnow
from tests.privacy_support import full_customer, product, service_history, wechat_field

CANARIES = ("甄士隐", "CANARYA", "canarya", "13911112222")


def _figures(crm) -> dict:
    with crm.db.read() as s:
        return {
            "customers": s.execute(select(Customer.branch_id, func.count()).group_by(
                Customer.branch_id).order_by(Customer.branch_id)).all(),
            "aum": s.scalar(select(func.sum(Customer.aum_fen))),
            "trades": s.execute(select(Trade.product_id, func.count(), func.sum(Trade.amount_fen),
                                       func.min(Trade.occurred_at)).group_by(Trade.product_id)
                                ).all(),
            "interactions": s.execute(select(Interaction.channel, func.count(),
                                             func.min(Interaction.occurred_at))
                                      .group_by(Interaction.channel)).all(),
            "kyc": s.scalar(select(func.count()).select_from(KycDocument)),
            "risk": s.execute(select(Customer.risk_level, func.count()).group_by(
                Customer.risk_level).order_by(Customer.risk_level)).all(),
            "tickets": s.execute(select(Ticket.type, Ticket.state, Ticket.priority, func.count(),
                                        func.min(Ticket.created_at), func.max(Ticket.resolved_at),
                                        func.sum(Ticket.reopened))
                                 .group_by(Ticket.type, Ticket.state, Ticket.priority)
                                 .order_by(Ticket.type, Ticket.state, Ticket.priority)).all(),
            "complaints": s.execute(select(Complaint.level, Complaint.step, func.count(),
                                           func.max(Complaint.reviewed_at))
                                    .group_by(Complaint.level, Complaint.step)).all(),
            "outbox": s.execute(select(OutboxMessage.channel, OutboxMessage.state,
                                       OutboxMessage.trigger, func.count(),
                                       func.sum(OutboxMessage.attempts))
                                .group_by(OutboxMessage.channel, OutboxMessage.state,
                                          OutboxMessage.trigger)).all(),
        }


def _text_dump(crm) -> str:
    """Every text cell of every table, as the database returns it."""
    out = []
    with crm.db.read() as s:
        for table in ("customer", "interaction", "kyc_document", "risk_assessment", "audit_event",
                      "privacy_request", "approval_request", "tag", "relationship", "ticket",
                      "complaint", "outbox_message", "task", "notification"):
            for row in s.execute(text(f"SELECT * FROM {table}")).all():  # noqa: S608
                out.extend(f"{table}: {_plain(v)}" for v in row)
    return "\n".join(out)


def _plain(value: object) -> str:
    """JSON as SQLite stores it escapes non-ASCII (\\u7504): read it back to text."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.dumps(json.loads(value), ensure_ascii=False)
        except ValueError:
            return value
    return json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, dict | list) \
        else str(value)


def test_batch_needs_approval_then_leaves_nothing(crm, world) -> None:
    rm1, comp = world["rm1"], world["comp1"]
    pid = product(crm)
    wechat_field(crm, world["admin"])
    long_ago = utcnow() - timedelta(days=6 * 366)
    gone = full_customer(crm, rm1, "甄士隐", "CANARYA", pid, phone="13911112222",
                         held_fen=0, when=long_ago)
    stays = full_customer(crm, rm1, "贾宝玉", "KEEPB", pid, phone="13933334444")
    service_history(crm, world, gone, "CANARYA")
    service_history(crm, world, stays, "KEEPB")
    rid = requests.open_request(crm, rm1, gone, "correction", detail="CANARYA 地址更正")
    requests.refuse_request(crm, comp, rid, "CANARYA 缺少证明材料")
    figures = _figures(crm)
    now = utcnow()

    due = retention.due_items(crm, comp, now)  # the dry run
    assert {(d.customer_id, d.category) for d in due} == {
        (gone, c) for c in ("profile", "kyc", "transactions", "interactions")}
    counts = run_all(crm, now)
    assert counts["anonymisation_batches"] == 1 and counts["anonymisation_items"] == 4
    assert run_all(crm, now)["anonymisation_batches"] == 0  # idempotent
    assert retention.due_items(crm, comp, now) == []  # taken by the pending batch
    assert "CANARYA" in _text_dump(crm)  # nothing changes before approval
    with crm.db.read() as s:
        batch = s.scalars(select(AnonymisationBatch)).one()
        req = s.get(ApprovalRequest, batch.approval_id)
        assert req is not None and req.status == "pending" and req.next_role == "compliance"
    with pytest.raises(approvals.NotDecidable):  # a risk officer is not this level's role
        approvals.approve(crm, world["risk1"], req.id)
    assert approvals.approve(crm, comp, req.id, "保存期满，同意匿名化") == "approved"

    dump = _text_dump(crm)
    with crm.db.read() as s:
        customer = s.get(Customer, gone)
        assert customer is not None and customer.status == "anonymised"
        assert customer.national_id_enc is None and customer.phone_enc is None
        assert customer.email == "" and customer.address == "" and customer.birth_date is None
        assert s.get(Customer, stays).name == "贾宝玉"
        assert s.scalars(select(AnonymisationBatch.state)).one() == "applied"
    assert "贾宝玉" in dump and "KEEPB-summary" in dump
    for kept in ("KEEPB-ticket-subject", "KEEPB-findings", "KEEPB-body", "keepb@example.cn"):
        assert kept in dump  # another customer's service history is untouched
    assert _figures(crm) == figures
    assert audit.verify_chain(crm.db).ok
    for canary in CANARIES:
        assert canary not in dump
    path = crm.db.sqlite_path
    if path is not None:  # the file and its WAL, byte for byte
        crm.db.dispose()
        for f in (path, path.with_name(path.name + "-wal")):
            if f.exists():
                raw = f.read_bytes()
                for canary in CANARIES:
                    assert canary.encode() not in raw, (f.name, canary)
                    assert json.dumps(canary)[1:-1].encode() not in raw, (f.name, canary)

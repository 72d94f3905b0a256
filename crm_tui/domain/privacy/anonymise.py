"""Applying an approved anonymisation batch (the approval engine's `anonymisation_batch` kind).

Per category, what identifies a person is replaced by an irreversible token or blanked:
profile — name (a random token: nothing to reverse), pinyin, national ID, phone, bank account
(ciphertext and blind indexes), e-mail, address, birth date, gender, occupation, goals, custom
field values (form engine), the free text of rights requests and relationship notes, and
approval payloads about the customer; kyc — document notes and questionnaire answers;
interactions — subject, summary, next action, and the service desk's text (tickets,
complaints, outbox messages, their tasks and notifications: `scrub_service`); transactions —
nothing personal is stored with a trade, the category only records that its period ended.
Counts, amounts, dates, branch and product stay, so KPIs and reports do not move.

The audit chain keeps its events; their payloads about the customer are redacted through
`kernel.audit.redact_payloads` so the chain still verifies. On SQLite the rewrite runs
with `secure_delete` and the WAL is checkpointed and truncated after commit, so no old page
holds the plaintext.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import case, event, exists, or_, select, text, update
from sqlmodel import Session

from crm_tui.domain.compliance import approvals
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import NotFound
from crm_tui.domain.privacy.retention import KIND, batch_version
from crm_tui.domain.privacy.scrub_service import blank_tasks, scrub_service
from crm_tui.store.models import (
    AuditEvent,
    Customer,
    Holding,
    Interaction,
    KycDocument,
    Relationship,
    RiskAssessment,
)
from crm_tui.store.models_compliance import ApprovalRequest
from crm_tui.store.models_privacy import AnonymisationBatch, AnonymisationItem, PrivacyRequest

REDACTED: dict[str, Any] = {"display": {"summary": ["privacy.summary.redacted", {}]}, "data": {}}

Targets = list[tuple[str, list[str], str | None]]
"""Audit events to redact: (entity, entity ids, only this action or None for all)."""


def token() -> str:
    """An irreversible stand-in for a name: random, derived from nothing."""
    return "匿名" + secrets.token_hex(4).upper()


def _profile(session: Session, ids: list[int], now: datetime) -> Targets:
    for cid in ids:
        session.execute(update(Customer).where(Customer.id == cid).values(
            name=token(), name_pinyin="", name_initials="", national_id_enc=None,
            national_id_bidx=None, phone_enc=None, phone_bidx=None, phone_last4=None,
            bank_account_enc=None, bank_account_bidx=None, email="", birth_date=None,
            gender="", address="", occupation="", goals="", custom={}, status="anonymised",
            updated_at=now, version=Customer.version + 1))
    session.execute(update(Relationship).where(or_(
        Relationship.customer_id.in_(ids), Relationship.related_id.in_(ids)))  # type: ignore[attr-defined]
        .values(note=""))
    session.execute(update(PrivacyRequest).where(PrivacyRequest.customer_id.in_(ids))  # type: ignore[attr-defined]
                    .values(detail="", outcome="", refusal_reason=case(
                        (PrivacyRequest.state == "refused", "-"), else_="")))
    session.execute(update(ApprovalRequest).where(ApprovalRequest.customer_id.in_(ids),  # type: ignore[attr-defined]
                                                  ApprovalRequest.status != "pending")
                    .values(payload=REDACTED, outcome_note=""))
    requests = [str(r) for r in session.scalars(select(PrivacyRequest.id).where(
        PrivacyRequest.customer_id.in_(ids))).all()]  # type: ignore[attr-defined]
    approvals_ = [str(r) for r in session.scalars(select(ApprovalRequest.id).where(
        ApprovalRequest.customer_id.in_(ids))).all()]  # type: ignore[attr-defined]
    return [("customer", [str(c) for c in ids], None), ("privacy_request", requests, None),
            ("approval_request", approvals_, None), ("task", blank_tasks(session, ids), None)]


def _kyc(session: Session, ids: list[int], now: datetime) -> Targets:
    session.execute(update(KycDocument).where(KycDocument.customer_id.in_(ids))  # type: ignore[attr-defined]
                    .values(note=""))
    session.execute(update(RiskAssessment).where(RiskAssessment.customer_id.in_(ids))  # type: ignore[attr-defined]
                    .values(answers={}))
    return []


def _interactions(session: Session, ids: list[int], now: datetime) -> Targets:
    session.execute(update(Interaction).where(Interaction.customer_id.in_(ids))  # type: ignore[attr-defined]
                    .values(subject="", summary="", next_action=""))
    service = [(entity, entity_ids, None) for entity, entity_ids in scrub_service(session, ids)]
    return [("customer", [str(c) for c in ids], "interaction.log"), *service]


def _transactions(session: Session, ids: list[int], now: datetime) -> Targets:
    """Trades carry amounts, dates and products only: they stay as they are."""
    return []


SCRUB = {"profile": _profile, "kyc": _kyc, "interactions": _interactions,
         "transactions": _transactions}


def _redact_audit(crm: Crm, session: Session, targets: Targets) -> int:
    """Redact the payloads of the audit events that hold what was scrubbed, through the
    chain's own redaction, which keeps a digest so `crm audit verify` still passes.
    Returns how many events were redacted."""
    conds = []
    for entity, entity_ids, action in targets:
        for start in range(0, len(entity_ids), 500):
            cond = (AuditEvent.entity == entity) & AuditEvent.entity_id.in_(  # type: ignore[attr-defined]
                entity_ids[start:start + 500])
            conds.append(cond if action is None else cond & (AuditEvent.action == action))
    if not conds:
        return 0
    event_ids = list(session.scalars(select(AuditEvent.id).where(or_(*conds))).all())
    if event_ids:
        audit.redact_payloads(crm.db, session, event_ids)
    return len(event_ids)


def _secure(crm: Crm, session: Session) -> None:
    """SQLite: zero freed bytes during the rewrite, then fold and truncate the WAL."""
    if not crm.db.is_sqlite:
        return
    session.execute(text("PRAGMA secure_delete = ON"))

    path = crm.db.sqlite_path

    def checkpoint(_session: Session) -> None:
        # A connection of its own: the session's is still winding down its commit.
        conn = sqlite3.connect(str(path), timeout=5)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()

    event.listen(session, "after_commit", checkpoint, once=True)


class AnonymisationHandler:
    def current_version(self, crm: Crm, session: Session, req: ApprovalRequest) -> str:
        batch = session.get(AnonymisationBatch, int(req.target_id))
        if batch is None:
            raise NotFound("privacy.error.batch_not_found", id=req.target_id)
        return batch_version(batch.items, batch.state)

    def check_applicable(self, crm: Crm, session: Session, req: ApprovalRequest,
                         now: datetime) -> None:
        return None

    def apply(self, crm: Crm, session: Session, req: ApprovalRequest, actor: Actor,
              now: datetime) -> str:
        batch = session.get(AnonymisationBatch, int(req.target_id))
        assert batch is not None  # current_version found it
        _secure(crm, session)
        items = session.execute(select(AnonymisationItem.customer_id, AnonymisationItem.category)
                                .where(AnonymisationItem.batch_id == batch.id)).all()
        # Someone who bought something since the batch was opened is a customer again.
        active = set(session.scalars(select(Holding.customer_id).where(
            Holding.customer_id.in_({i[0] for i in items}),  # type: ignore[attr-defined]
            Holding.amount_fen > 0)).all())
        by_category: dict[str, list[int]] = defaultdict(list)
        for cid, category in items:
            if cid not in active:
                by_category[category].append(cid)
        redacted = 0
        for category, ids in by_category.items():
            for start in range(0, len(ids), 500):
                targets = SCRUB[category](session, ids[start:start + 500], now)
                redacted += _redact_audit(crm, session, targets)
        batch.state, batch.applied_at = "applied", now
        session.add(batch)
        counts = {c: len(v) for c, v in by_category.items()}
        audit.record(crm.db, session, actor, "privacy.batch.apply", "anonymisation_batch",
                     batch.id, {"state": "pending"},
                     {"state": "applied", "counts": counts, "skipped": len(active),
                      "audit_redacted": redacted})
        return f"anonymisation_batch:{batch.id}"


approvals.register(KIND, AnonymisationHandler())


def is_anonymised(session: Session, customer_id: int) -> bool:
    return bool(session.scalar(select(exists().where(Customer.id == customer_id,
                                                     Customer.status == "anonymised"))))

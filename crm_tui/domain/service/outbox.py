"""The outbox: messages to customers, queued by care triggers and sent by the jobs.

States: queued → sending → sent; a failure → retry (next attempt after the policy's
back-off) → … → failed once the attempts are used up, with the last error kept and the RM
notified. A row is claimed by moving it to `sending` in its own transaction (a conditional
UPDATE), so two job runners never send the same message; a crash after the claim leaves
it visibly `sending` rather than sending it again. The unique dedupe key keeps a trigger
from queueing the same greeting twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from crm_tui.domain.customers.consent import NoConsent, require_consent
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import PermissionDenied
from crm_tui.domain.kernel.permissions import Role
from crm_tui.domain.service.senders import OutgoingMessage, Sender, SendError, default_senders
from crm_tui.domain.workflow.notifications import notify
from crm_tui.store.models import Customer
from crm_tui.store.models_service import OutboxMessage

STATES = ("queued", "sending", "sent", "retry", "failed")
PAGE = 100
# Every message the outbox holds is a care greeting: the ledger is checked again when it goes
# out, so a consent withdrawn (or a record restricted) after queueing stops it (PIPL).
CONSENT_PURPOSE = {"sms": "marketing_sms", "email": "marketing_email"}
NO_CONSENT = "no consent in force"


@dataclass(frozen=True)
class OutboxView:
    id: int
    channel: str
    customer_id: int
    trigger: str
    subject: str
    body: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str
    created_at: datetime
    sent_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "channel": self.channel, "customer_id": self.customer_id,
                "trigger": self.trigger, "subject": self.subject, "body": self.body,
                "state": self.state, "attempts": self.attempts,
                "next_attempt_at": self.next_attempt_at.isoformat(),
                "last_error": self.last_error, "created_at": self.created_at.isoformat(),
                "sent_at": self.sent_at.isoformat() if self.sent_at else None}


def enqueue(session: Session, *, channel: str, customer_id: int, trigger: str, subject: str,
            body: str, dedupe_key: str, now: datetime) -> bool:
    """Queue one message in the caller's transaction; False when the key was used."""
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)):
        return False
    session.add(OutboxMessage(channel=channel, customer_id=customer_id, trigger=trigger,
                              subject=subject[:200], body=body, state="queued",
                              next_attempt_at=now, created_at=now, dedupe_key=dedupe_key))
    session.flush()
    return True


def _recipient(crm: Crm, customer: Customer, channel: str) -> str | None:
    if channel == "email":
        return customer.email or None
    return crm.keys.decrypt("phone", customer.phone_enc)


def _claim(crm: Crm, message_id: int) -> tuple[OutboxMessage, Customer] | None:
    with crm.db.write() as session:
        claimed = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id,
                   OutboxMessage.state.in_(("queued", "retry")))  # type: ignore[attr-defined]
            .values(state="sending", attempts=OutboxMessage.attempts + 1)).rowcount  # type: ignore[attr-defined]
        if not claimed:
            return None
        row = session.execute(select(OutboxMessage, Customer)
                              .join(Customer, Customer.id == OutboxMessage.customer_id)
                              .where(OutboxMessage.id == message_id)).one()
        session.expunge_all()
        return row[0], row[1]


def _consented(crm: Crm, message: OutboxMessage) -> bool:
    purpose = CONSENT_PURPOSE.get(message.channel)
    if purpose is None:
        return True
    with crm.db.read() as session:
        try:
            require_consent(session, message.customer_id, purpose)
        except NoConsent:
            return False
    return True


def _finish(crm: Crm, message: OutboxMessage, customer: Customer, now: datetime,
            error: str | None) -> str:
    policy = crm.policy().service.outbox
    with crm.db.write() as session:
        values: dict[str, Any]
        if error is None:
            values, state = {"state": "sent", "sent_at": now, "last_error": ""}, "sent"
        elif error == NO_CONSENT or message.attempts >= policy.max_attempts:
            values, state = {"state": "failed", "last_error": error[:400]}, "failed"
            if customer.rm_id:
                notify(session, customer.rm_id, "outbox", "service.notify.outbox_failed",
                       {"id": message.id, "customer_id": customer.id,
                        "attempts": message.attempts, "error": error[:120]},
                       entity="outbox", entity_id=message.id,
                       dedupe_key=f"outbox:{message.id}:failed")
        else:
            wait = timedelta(minutes=policy.backoff(message.attempts))
            values, state = {"state": "retry", "last_error": error[:400],
                             "next_attempt_at": now + wait}, "retry"
        session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id).values(**values))
    return state


def deliver_due(crm: Crm, now: datetime, senders: dict[str, Sender] | None = None) -> dict[str, int]:
    """Send what is due at `now`; counts of sent / retry / failed."""
    policy = crm.policy().service.outbox
    senders = senders if senders is not None else default_senders()
    counts = {"outbox_sent": 0, "outbox_retry": 0, "outbox_failed": 0}
    with crm.db.read() as session:
        ids = list(session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.state.in_(("queued", "retry")),  # type: ignore[attr-defined]
                   OutboxMessage.next_attempt_at <= now)  # type: ignore[operator]
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(policy.batch)))
    for message_id in ids:
        claimed = _claim(crm, message_id or 0)
        if claimed is None:
            continue
        message, customer = claimed
        error: str | None = None
        to = _recipient(crm, customer, message.channel)
        sender = senders.get(message.channel)
        if not _consented(crm, message):
            error = NO_CONSENT  # failed at once, never retried
        elif not to:
            error = f"no {message.channel} address"
        elif sender is None:
            error = f"no sender for {message.channel}"
        else:
            try:
                sender.send(OutgoingMessage(message.id or 0, message.channel, to, message.subject,
                                            message.body))
            except SendError as exc:
                error = exc.detail
        state = _finish(crm, message, customer, now, error)
        counts[f"outbox_{state}"] += 1
    return counts


def list_outbox(crm: Crm, actor: Actor, *, state: str | None = None, before_id: int | None = None,
                limit: int = PAGE) -> list[OutboxView]:
    """Newest first, keyset on id; the system (CLI), service desk and branch head see their
    scope (admin: everything)."""
    if actor.role not in (Role.ADMIN.value, Role.SERVICE.value, Role.BRANCH_HEAD.value,
                          Role.SUPERVISOR.value, Role.RM.value):
        raise PermissionDenied(role=actor.role, action="outbox.view")
    q = select(OutboxMessage)
    if actor.role != Role.ADMIN.value:
        from crm_tui.domain.kernel.permissions import customer_scope

        q = q.where(OutboxMessage.customer_id.in_(  # type: ignore[attr-defined]
            select(Customer.id).where(customer_scope(actor))))
    if state is not None:
        q = q.where(OutboxMessage.state == state)
    if before_id is not None:
        q = q.where(OutboxMessage.id < before_id)  # type: ignore[operator]
    q = q.order_by(OutboxMessage.id.desc()).limit(limit)  # type: ignore[union-attr]
    with crm.db.read() as session:
        return [OutboxView(m.id or 0, m.channel, m.customer_id, m.trigger, m.subject, m.body,
                           m.state, m.attempts, m.next_attempt_at, m.last_error, m.created_at,
                           m.sent_at) for m in session.scalars(q)]

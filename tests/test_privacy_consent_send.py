"""A send is refused without consent: a care message queued while consent was in force does
not go out once the customer withdrew it, or once the record is restricted (PIPL)."""

from __future__ import annotations

from sqlalchemy import select

from crm_tui.domain.customers import consent
from crm_tui.domain.privacy import requests
from crm_tui.domain.service import outbox
from crm_tui.store.models_service import OutboxMessage
from crm_tui.store.types import utcnow
from tests.helpers import make_customer


class Recording:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, message) -> None:  # type: ignore[no-untyped-def]
        self.sent.append(message.to)


def _queue(crm, cid: int, key: str) -> None:  # type: ignore[no-untyped-def]
    with crm.db.write() as s:
        outbox.enqueue(s, channel="email", customer_id=cid, trigger="birthday", subject="生日快乐",
                       body="祝您生日快乐", dedupe_key=key, now=utcnow())


def _states(crm) -> dict[int, tuple[str, str]]:  # type: ignore[no-untyped-def]
    with crm.db.read() as s:
        return {m.customer_id: (m.state, m.last_error) for m in s.scalars(select(OutboxMessage))}


def test_a_send_is_refused_without_consent(crm, world) -> None:  # type: ignore[no-untyped-def]
    rm1, comp = world["rm1"], world["comp1"]
    kept = make_customer(crm, rm1, "陈美玲", email="chenml@example.cn")
    withdrew = make_customer(crm, rm1, "刘德明", email="liudm@example.cn")
    deleted = make_customer(crm, rm1, "吴秀兰", email="wuxl@example.cn")
    for cid in (kept, withdrew, deleted):
        consent.record_consent(crm, rm1, cid, "marketing_email", True, notice_version="2026.1",
                               channel="branch")
        _queue(crm, cid, f"birthday:{cid}")
    consent.record_consent(crm, rm1, withdrew, "marketing_email", False, notice_version="2026.1",
                           channel="phone")
    rid = requests.open_request(crm, rm1, deleted, "deletion", detail="客户要求删除")
    requests.complete_request(crm, comp, rid, "限制处理，期满匿名化")
    sender = Recording()
    counts = outbox.deliver_due(crm, utcnow(), {"email": sender})
    assert sender.sent == ["chenml@example.cn"]
    assert counts == {"outbox_sent": 1, "outbox_retry": 0, "outbox_failed": 2}
    states = _states(crm)
    assert states[kept] == ("sent", "")
    assert states[withdrew] == ("failed", outbox.NO_CONSENT)  # at once: never retried
    assert states[deleted] == ("failed", outbox.NO_CONSENT)

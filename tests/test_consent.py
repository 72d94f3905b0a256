"""The consent ledger: newest record per purpose wins, withdrawals are rows, audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_tui.domain.customers import consent
from crm_tui.domain.kernel.errors import NotFound, ValidationFailed
from crm_tui.store.models import AuditEvent, Customer
from tests.helpers import make_customer


def test_grant_withdraw_and_bulk_clause(crm, world) -> None:
    rm1 = world["rm1"]
    cid = make_customer(crm, rm1, "张三")
    other = make_customer(crm, rm1, "李四")
    with crm.db.read() as s:
        assert not consent.has_consent(s, cid, "marketing_sms")
    consent.record_consent(crm, rm1, cid, "marketing_sms", True, notice_version="2026.1",
                           channel="branch")
    consent.record_consent(crm, rm1, other, "marketing_sms", True, notice_version="2026.1",
                           channel="branch")
    consent.record_consent(crm, rm1, other, "marketing_sms", False, notice_version="2026.1",
                           channel="phone")
    with crm.db.read() as s:
        assert consent.has_consent(s, cid, "marketing_sms")
        assert not consent.has_consent(s, cid, "marketing_email")
        assert not consent.has_consent(s, other, "marketing_sms")
        ok = s.scalars(select(Customer.id).where(
            consent.consented_clause(Customer.id, "marketing_sms"))).all()
        assert ok == [cid]
        actions = s.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("consent.%"))).all()  # type: ignore[union-attr]
        assert actions == ["consent.grant", "consent.grant", "consent.withdraw"]
    views = {v.purpose: v for v in consent.current_consents(crm, rm1, other)}
    assert not views["marketing_sms"].granted and views["marketing_sms"].channel == "phone"
    with pytest.raises(ValidationFailed):
        consent.record_consent(crm, rm1, cid, "spam", True, notice_version="", channel="x")
    with pytest.raises(NotFound):
        consent.record_consent(crm, world["rm3"], cid, "marketing_sms", True,
                               notice_version="2026.1", channel="branch")

"""Domain rules behind the custom-field screens: a sensitive custom field of a lead or an
opportunity changes only through a maker-checker request (nothing stored until a
supervisor approves, then encrypted with its audit event, and the form's view says which
fields wait); a new opportunity carries an expected amount and its custom fields, validated
all at once and created with its audit event in one transaction."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm_tui.domain.compliance import approvals
from crm_tui.domain.forms import definitions as D
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.kernel.errors import ValidationFailed
from crm_tui.domain.sales import custom_values as SC
from crm_tui.domain.sales import leads, opportunities
from crm_tui.store.models import AuditEvent
from crm_tui.store.models_compliance import ApprovalRequest
from crm_tui.store.models_sales import Lead, Opportunity
from tests.helpers import make_customer

ADMIN = system_actor("test")


def _keys(exc: pytest.ExceptionInfo[ValidationFailed]) -> set[tuple[str, str]]:
    return {(e.field, e.key) for e in exc.value.errors}


def _rm1_lead(crm, world, name: str = "客户甲") -> int:
    lid = leads.create_lead(crm, world["sup1"], {"name": name, "source": "web",
                                                 "branch_code": "BJ01"})
    leads.reassign(crm, world["sup1"], lid, "rm1")
    return lid


def test_a_sensitive_lead_field_waits_for_approval_then_is_stored_encrypted(crm, world) -> None:
    D.add_field(crm, ADMIN, "lead", "wechat_id", label_zh="微信号", label_en="WeChat ID",
                pattern=r"wx[a-z0-9]{4,}", sensitive=True)
    rm1 = world["rm1"]
    lid = _rm1_lead(crm, world)
    with pytest.raises(ValidationFailed) as bad:  # validated exactly like a save
        SC.request_lead_custom_change(crm, rm1, lid, "wechat_id", "WX-1", "客户告知")
    assert _keys(bad) == {("wechat_id", "validation.pattern")}
    with pytest.raises(ValidationFailed) as bad:
        SC.request_lead_custom_change(crm, rm1, lid, "wechat_id", "wxzhang88", "  ")
    assert _keys(bad) == {("reason", "validation.required")}
    rid = SC.request_lead_custom_change(crm, rm1, lid, "wechat_id", "wxzhang88", "客户告知")
    with crm.db.read() as s:
        assert "wechat_id" not in s.get(Lead, lid).custom  # nothing until approved
        req = s.get(ApprovalRequest, rid)
        assert req.status == "pending" and "wxzhang88" not in json.dumps(req.payload)
    view = SC.lead_custom_view(crm, rm1, lid)
    assert view.pending == {"wechat_id": rid}
    with pytest.raises(ValidationFailed) as bad:
        SC.request_lead_custom_change(crm, rm1, lid, "wechat_id", "wxzhang99", "再改")
    assert _keys(bad) == {("wechat_id", "compliance.validation.already_pending")}
    from crm_tui.domain.compliance.approval_views import get_request

    change = get_request(crm, world["sup1"], rid).changes[0]  # what the approver reads
    assert (change.field.key, dict(change.field.params), change.before, change.after) == (
        "compliance.custom_field_label", {"zh": "微信号", "en": "WeChat ID"}, "", "w*******8")
    approvals.approve(crm, world["sup1"], rid)
    with crm.db.read() as s:
        row = s.get(Lead, lid)
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "lead.sensitive_change")).one()
    assert "wxzhang88" not in json.dumps(row.custom) and "wechat_id" in row.custom
    assert "wxzhang88" not in str(ev.after)
    view = SC.lead_custom_view(crm, rm1, lid)
    assert view.pending == {}
    assert {v.key: v.text for v in view.values}["wechat_id"] == "w*******8"


def test_a_sensitive_opportunity_field_changes_through_maker_checker(crm, world) -> None:
    D.add_field(crm, ADMIN, "opportunity", "contract_no", label_zh="合同编号",
                label_en="Contract no.", sensitive=True)
    rm1 = world["rm1"]
    oid = opportunities.create_opportunity(crm, rm1, make_customer(crm, rm1, "张三"))
    rid = SC.request_opportunity_custom_change(crm, rm1, oid, "contract_no", "HT20260001",
                                               "合同已签")
    assert SC.opportunity_custom_view(crm, rm1, oid).pending == {"contract_no": rid}
    approvals.approve(crm, world["sup1"], rid)
    with crm.db.read() as s:
        row = s.get(Opportunity, oid)
    assert "HT20260001" not in json.dumps(row.custom) and row.version == 2
    assert {v.key: v.text for v in SC.opportunity_custom_view(crm, rm1, oid).values} == {
        "contract_no": "H********1"}


def test_a_new_opportunity_takes_an_amount_and_its_custom_fields(crm, world) -> None:
    D.add_field(crm, ADMIN, "opportunity", "channel", type="choice", label_zh="渠道",
                label_en="Channel", choices=["网点", "手机银行"], required=True)
    D.add_field(crm, ADMIN, "opportunity", "card_no", label_zh="卡号", label_en="Card no.",
                sensitive=True)
    rm1 = world["rm1"]
    cid = make_customer(crm, rm1, "李四")
    with pytest.raises(ValidationFailed) as bad:  # every problem at once, nothing written
        opportunities.create_opportunity(crm, rm1, cid, amount="-5",
                                         custom={"channel": "柜台"})
    assert _keys(bad) == {("amount", "validation.amount_negative"), ("channel", "validation.choice")}
    with pytest.raises(ValidationFailed) as bad:
        opportunities.create_opportunity(crm, rm1, cid, custom={})
    assert _keys(bad) == {("channel", "validation.required")}
    oid = opportunities.create_opportunity(crm, rm1, cid, amount="200,000.00",
                                           custom={"channel": "手机银行",
                                                   "card_no": "6222000011112222"})
    with crm.db.read() as s:
        opp = s.get(Opportunity, oid)
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "opportunity.create",
                                                AuditEvent.entity_id == str(oid))).one()
        count = len(s.scalars(select(Opportunity.id)).all())
    assert count == 1 and opp.stage == "needs" and opp.owner_id == rm1.id
    assert opp.amount_fen == 20_000_000 and opp.custom["channel"] == "手机银行"
    assert "6222000011112222" not in json.dumps(opp.custom)
    after = json.loads(ev.after)
    assert after["custom"] == {"channel": "手机银行", "card_no": "6**************2"}
    assert Decimal(after["amount_fen"]) == 20_000_000

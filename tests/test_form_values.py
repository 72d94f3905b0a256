"""Custom values on leads, opportunities and tickets (form engine): created with the record,
validated by the entity's model, saved through the optimistic lock with an audit event,
sensitive ones encrypted and changed through maker-checker, lists filtered by filterable
fields through their expression index (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from crm_tui.domain.compliance import approvals
from crm_tui.domain.forms import definitions as D
from crm_tui.domain.forms.filters import parse_filters
from crm_tui.domain.forms.values import custom_json_by_id
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.kernel.errors import Conflict, ValidationFailed
from crm_tui.domain.sales import custom_values as SC
from crm_tui.domain.sales import leads, opportunities
from crm_tui.domain.sales.board import BoardFilter, column_cards
from crm_tui.domain.service import custom_values as TC
from crm_tui.domain.service import tickets
from crm_tui.domain.service.queue import QueueFilter, all_states_page, queue_page
from crm_tui.store.models import AuditEvent
from crm_tui.store.models_sales import Lead, Opportunity
from crm_tui.store.models_service import Ticket
from tests.helpers import make_customer

ADMIN = system_actor("test")


def _keys(exc: pytest.ExceptionInfo[ValidationFailed]) -> set[tuple[str, str]]:
    return {(e.field, e.key) for e in exc.value.errors}


def _ticket_fields(crm) -> None:
    D.add_field(crm, ADMIN, "ticket", "channel_ref", label_zh="渠道单号", label_en="Channel ref",
                pattern=r"[A-Z]{2}\d{4}", filterable=True)
    D.add_field(crm, ADMIN, "ticket", "severity", type="choice", label_zh="严重程度",
                label_en="Severity", choices=["低", "中", "高"], required=True, filterable=True)
    D.add_field(crm, ADMIN, "ticket", "tags", type="multi_choice", label_zh="标签",
                label_en="Tags", choices=["理财", "贷款"], filterable=True)
    D.add_field(crm, ADMIN, "ticket", "card_no", label_zh="卡号", label_en="Card no",
                sensitive=True)


def test_ticket_custom_values_created_saved_filtered(crm, world) -> None:
    _ticket_fields(crm)
    svc = world["svc1"]
    cid = make_customer(crm, world["rm1"], "周晓梅")
    with pytest.raises(ValidationFailed) as bad:
        tickets.create_ticket(crm, svc, cid, {"type": "inquiry", "subject": "",
                                              "custom": {"channel_ref": "x1"}})
    assert _keys(bad) == {("subject", "validation.required"),
                          ("channel_ref", "validation.pattern"),
                          ("severity", "validation.required")}
    t1 = tickets.create_ticket(crm, svc, cid, {
        "type": "inquiry", "subject": "查询", "custom": {
            "channel_ref": "WX0001", "severity": "高", "tags": "理财,贷款",
            "card_no": "6222020200112233"}})
    t2 = tickets.create_ticket(crm, svc, cid, {"type": "inquiry", "subject": "另一件",
                                               "custom": {"severity": "低"}})
    with crm.db.read() as s:
        stored = s.get(Ticket, t1).custom
    assert stored["severity"] == "高" and stored["tags"] == ["理财", "贷款"]
    assert "6222020200112233" not in stored["card_no"]  # encrypted at rest
    # an edit: saved at the version read, audited; a stale version is a conflict
    view = TC.ticket_custom_view(crm, svc, t1)
    assert {v.key: v.text for v in view.values}["card_no"] == "6**************3"
    new_version = TC.update_ticket_custom(crm, svc, t1, view.version, {"severity": "中"})
    assert new_version == view.version + 1
    with pytest.raises(Conflict):
        TC.update_ticket_custom(crm, svc, t1, view.version, {"severity": "低"})
    with pytest.raises(ValidationFailed) as bad:
        TC.update_ticket_custom(crm, svc, t1, new_version, {"card_no": "1"})
    assert _keys(bad) == {("card_no", "validation.sensitive_needs_approval")}
    with crm.db.read() as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "ticket.update")).one()
    assert json.loads(ev.before) == {"custom.severity": "高"}
    assert json.loads(ev.after) == {"custom.severity": "中"}
    # filters: the queue and the all-states list, by text, choice and a multi-choice item
    def ids(**custom):
        flt = QueueFilter(custom=parse_filters(crm, "ticket", custom))
        return ({r.id for r in queue_page(crm, svc, flt)},
                {r.id for r in all_states_page(crm, svc, flt)})
    assert ids(severity="中") == ({t1}, {t1})
    assert ids(severity="低") == ({t2}, {t2})
    assert ids(channel_ref="WX0001", tags="贷款") == ({t1}, {t1})
    assert ids(tags="贷款", severity="低") == (set(), set())
    with pytest.raises(ValidationFailed) as bad:
        parse_filters(crm, "ticket", ["card_no=1", "severity=紧急", "nonsense"])
    assert _keys(bad) == {("field", "forms.error.filter_syntax"),
                          ("card_no", "forms.error.not_filterable"),
                          ("severity", "validation.choice")}
    # the CLI's `custom` object: JSON values, the sensitive one masked
    shown = custom_json_by_id(crm, "ticket", [t1, t2])
    assert shown[t1]["severity"] == "中" and shown[t1]["card_no"] == "6**************3"
    assert shown[t2] == {"severity": "低"}


def test_sensitive_ticket_field_changes_through_maker_checker(crm, world) -> None:
    _ticket_fields(crm)
    svc = world["svc1"]
    cid = make_customer(crm, world["rm1"], "周晓梅")
    tid = tickets.create_ticket(crm, svc, cid, {"type": "inquiry", "subject": "换卡",
                                                "custom": {"severity": "低"}})
    rid = TC.request_ticket_custom_change(crm, world["rm1"], tid, "card_no", "6222000011112222",
                                          "客户换卡")
    with crm.db.read() as s:
        assert "card_no" not in s.get(Ticket, tid).custom  # nothing until approved
    approvals.approve(crm, world["sup1"], rid)
    with crm.db.read() as s:
        row = s.get(Ticket, tid)
        ev = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "ticket.sensitive_change")).one()
    assert "6222000011112222" not in row.custom["card_no"] and row.version == 2
    assert "6222000011112222" not in str(ev.after)
    assert {v.key: v.text for v in TC.ticket_custom_view(crm, svc, tid).values}["card_no"] \
        == "6**************2"


def test_lead_and_opportunity_custom_values_and_filters(crm, world) -> None:
    D.add_field(crm, ADMIN, "lead", "campaign", type="choice", label_zh="来源活动",
                label_en="Campaign", choices=["春季理财节", "代发工资"], filterable=True)
    D.add_field(crm, ADMIN, "lead", "budget", type="decimal", label_zh="预算", label_en="Budget",
                filterable=True)
    D.add_field(crm, ADMIN, "opportunity", "vip", type="bool", label_zh="贵宾",
                label_en="VIP", filterable=True)
    bh = world["bh1"]
    l1 = leads.create_lead(crm, bh, {"name": "客户甲", "source": "web", "branch_code": "BJ01",
                                     "custom": {"campaign": "代发工资", "budget": "12.50"}})
    l2 = leads.create_lead(crm, bh, {"name": "客户乙", "source": "web", "branch_code": "BJ01"})
    with pytest.raises(ValidationFailed) as bad:
        leads.create_lead(crm, bh, {"name": "客户丙", "source": "web",
                                    "custom": {"campaign": "双十一"}})
    assert _keys(bad) == {("campaign", "validation.choice")}
    v = SC.lead_custom_view(crm, bh, l2)
    SC.update_lead_custom(crm, bh, l2, v.version, {"campaign": "春季理财节"})

    def lead_ids(*items):
        return {r.id for r in leads.list_leads(crm, bh, custom=parse_filters(crm, "lead", items))}
    assert lead_ids("campaign=代发工资") == {l1}
    assert lead_ids("campaign=春季理财节") == {l2}
    assert lead_ids("budget=12.5") == {l1}  # 12.50 as typed, found as 12.5
    with crm.db.read() as s:
        assert s.get(Lead, l2).custom == {"campaign": "春季理财节"}

    rm1 = world["rm1"]
    cid = make_customer(crm, rm1, "张三")
    o1 = opportunities.create_opportunity(crm, rm1, cid)
    o2 = opportunities.create_opportunity(crm, rm1, cid)
    ov = SC.opportunity_custom_view(crm, rm1, o1)
    assert SC.update_opportunity_custom(crm, rm1, o1, ov.version, {"vip": "是"}) == 2
    SC.update_opportunity_custom(crm, rm1, o2, 1, {"vip": "否"})
    with crm.db.read() as s:
        assert s.get(Opportunity, o1).custom == {"vip": True}

    def opp_ids(value):
        f = BoardFilter(custom=parse_filters(crm, "opportunity", {"vip": value}))
        return {c.id for c in column_cards(crm, rm1, None, f)}
    assert opp_ids("yes") == {o1}
    assert opp_ids("no") == {o2}


def test_filters_read_the_expression_index(crm, world) -> None:
    _ticket_fields(crm)
    flt = parse_filters(crm, "ticket", {"severity": "高"})
    from crm_tui.domain.forms.filters import clauses

    q = select(Ticket.id).where(*clauses(flt, Ticket.custom))
    with crm.db.read() as s:
        if crm.db.is_sqlite:
            sql = str(q.compile(s.get_bind(), compile_kwargs={"literal_binds": True}))
            plan = " ".join(str(r) for r in s.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
            assert "ix_ticket_cf_severity" in plan
        else:
            names = {r[0] for r in s.execute(text(
                "select indexname from pg_indexes where tablename='ticket'"))}
            assert "ix_ticket_cf_severity" in names
            s.execute(text("SET LOCAL enable_seqscan = off"))
            sql = str(q.compile(s.get_bind(), compile_kwargs={"literal_binds": True}))
            plan = " ".join(str(r) for r in s.execute(text(f"EXPLAIN {sql}")))
            assert "ix_ticket_cf_severity" in plan


def test_customer_search_filters_by_a_custom_field(crm, world) -> None:
    from crm_tui.domain.customers.custom_values import update_custom_fields
    from crm_tui.domain.customers.search import search_customers

    D.add_field(crm, ADMIN, "customer", "tier", type="choice", label_zh="层级", label_en="Tier",
                choices=["金卡", "白金"], filterable=True)
    rm1 = world["rm1"]
    a = make_customer(crm, rm1, "张三")
    b = make_customer(crm, rm1, "张四")
    update_custom_fields(crm, rm1, a, 1, {"tier": "金卡"})
    update_custom_fields(crm, rm1, b, 1, {"tier": "白金"})
    assert [c.id for c in search_customers(crm, rm1, "张 tier=白金")] == [b]
    assert [c.id for c in search_customers(crm, rm1, "tier=金卡")] == [a]
    assert {c.id for c in search_customers(crm, rm1, "张 tier=")} == {a, b}  # still typing
    with pytest.raises(ValidationFailed):
        search_customers(crm, rm1, "tier=铜卡")


def test_definition_changes_through_approval_when_the_policy_says_so(crm, world) -> None:
    from crm_tui.domain.compliance.approval_views import get_request
    from crm_tui.domain.compliance.field_definition_changes import submit_field_change
    from crm_tui.domain.forms.registry import custom_fields
    from crm_tui.domain.kernel.errors import DomainError
    from crm_tui.domain.policy.document import activate_policy, default_policy_text

    # off (the default): applied at once
    assert submit_field_change(crm, ADMIN, "add", "ticket", "area", {
        "label_zh": "区域", "label_en": "Area"}).view is not None
    text = default_policy_text().replace("definition_changes_need_approval = false",
                                         "definition_changes_need_approval = true")
    with crm.db.write() as s:
        activate_policy(crm.db, s, ADMIN, text)
    crm.forget_policy()
    comp = world["comp1"]
    sub = submit_field_change(crm, ADMIN, "add", "ticket", "severity", {
        "type": "choice", "label_zh": "严重程度", "label_en": "Severity", "choices": ["低", "高"]})
    assert sub.view is None and [f.key for f in custom_fields(crm, "ticket")] == ["area"]
    with pytest.raises(ValidationFailed):  # checked when asked, not when approved
        submit_field_change(crm, ADMIN, "add", "ticket", "bad", {"type": "choice",
                                                                  "label_zh": "坏", "label_en": "B"})
    detail = get_request(crm, comp, sub.request_id)
    assert detail.review is not None and detail.review.changes == (
        ("forms_values.def.added", {"field": "ticket.severity", "type": "choice",
                                    "label": "严重程度"}),)
    approvals.approve(crm, comp, sub.request_id)
    assert [f.key for f in custom_fields(crm, "ticket")] == ["area", "severity"]
    edit = submit_field_change(crm, ADMIN, "edit", "ticket", "severity",
                               {"choices": ["低", "中", "高"], "filterable": True})
    words = get_request(crm, comp, edit.request_id).review.changes
    assert ("forms_values.def.changed", {"field": "ticket.severity", "attr": "choices",
                                         "before": "低, 高", "after": "低, 中, 高"}) in words
    D.edit_field(crm, ADMIN, "ticket", "severity", label_en="Severity level")  # meanwhile
    with pytest.raises(DomainError):  # stale: the definition moved on
        approvals.approve(crm, comp, edit.request_id)
    assert D.find_field(crm, "ticket", "severity").choices == ("低", "高")
    retire = submit_field_change(crm, ADMIN, "retire", "ticket", "area")
    approvals.approve(crm, comp, retire.request_id)
    assert [f.key for f in custom_fields(crm, "ticket")] == ["severity"]


def test_key_rotation_reseals_sensitive_ticket_values(crm, world) -> None:
    from crm_tui.domain.admin import keys as key_rotation
    from crm_tui.store.crypto import write_key_file

    _ticket_fields(crm)
    cid = make_customer(crm, world["rm1"], "周晓梅")
    tid = tickets.create_ticket(crm, world["svc1"], cid, {
        "type": "inquiry", "subject": "换卡", "custom": {"severity": "低",
                                                          "card_no": "6222020200112233"}})
    write_key_file(crm.key_file, crm.keys)
    old = crm.keys.active
    report = key_rotation.rotate_keys(crm, system_actor())
    assert old not in crm.keys.keys  # the old key is gone from the ring in use
    with crm.db.read() as s:
        token = s.get(Ticket, tid).custom["card_no"]
    assert token.startswith(report.new_key + "$")
    assert {v.key: v.text for v in TC.ticket_custom_view(crm, world["svc1"], tid).values}[
        "card_no"] == "6**************3"

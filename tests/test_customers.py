"""Customer 360° rules: scope, search, masking, edit with optimistic locking, reveal."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm_tui.domain.customers import interactions, profile, records, relationships, search, tags
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.errors import Blocked, Conflict, NotFound, PermissionDenied, ValidationFailed
from crm_tui.store.models import AuditEvent, Customer, KycDocument
from tests.helpers import complete_kyc, make_customer, new_id


def test_search_by_name_pinyin_phone_tail_and_id(crm, world) -> None:
    nid = new_id()
    cid = make_customer(crm, world["rm1"], "张三", national_id=nid, phone="13812345678")
    make_customer(crm, world["rm1"], "李四")
    rm1 = world["rm1"]
    for q in ("张", "张三", "zs", "ZS", "zhang", "5678", "13812345678", nid, nid.lower()):
        hits = search.search_customers(crm, rm1, q)
        assert [h.id for h in hits] == [cid], q
    assert search.search_customers(crm, rm1, "王") == []
    assert search.search_customers(crm, rm1, "123") == []  # too short to mean anything
    hit = search.search_customers(crm, rm1, "zs")[0]
    assert hit.phone_masked.endswith("5678") and "1234" not in hit.phone_masked
    assert hit.rm_name == "王芳"


def test_search_pages_by_keyset(crm, world) -> None:
    for i in range(7):
        make_customer(crm, world["rm1"], f"王{chr(65 + i)}")
    first = search.search_customers(crm, world["rm1"], "王", limit=3)
    second = search.search_customers(crm, world["rm1"], "王", limit=3,
                                        after=(first[-1].sort_key, first[-1].id))
    third = search.search_customers(crm, world["rm1"], "王", limit=3,
                                       after=(second[-1].sort_key, second[-1].id))
    names = [h.name for h in first + second + third]  # none contacted: the newest first
    assert names == [f"王{chr(65 + i)}" for i in reversed(range(7))]


def test_record_scope_by_role(crm, world) -> None:
    mine = make_customer(crm, world["rm1"], "张三")
    teammate = make_customer(crm, world["rm2"], "张四")
    other_team = make_customer(crm, world["rm3"], "张五")
    shanghai = make_customer(crm, world["rm_sh"], "张六")

    def seen(user: str) -> set[int]:
        return {h.id for h in search.search_customers(crm, world[user], "张")}

    assert seen("rm1") == {mine}
    assert seen("sup1") == {mine, teammate}
    assert seen("sup2") == {other_team}
    assert seen("bh1") == {mine, teammate, other_team}
    assert seen("svc1") == {mine, teammate, other_team}
    assert seen("bh_sh") == {shanghai}
    assert seen("comp1") == seen("risk1") == {mine, teammate, other_team, shanghai}
    with pytest.raises(PermissionDenied):
        search.search_customers(crm, world["admin"], "张")
    with pytest.raises(NotFound):
        profile.get_profile(crm, world["rm1"], teammate)
    with pytest.raises(NotFound):
        profile.get_profile(crm, world["bh1"], shanghai)


def test_profile_shows_masked_identity_kyc_holdings_tags_network(crm, world) -> None:
    rm = world["rm1"]
    nid = new_id("19800101")
    cid = make_customer(crm, rm, "张三", national_id=nid, phone="13812345678",
                        bank_account="6222021234567890123", aum="7,000,000")
    spouse = make_customer(crm, rm, "李梅")
    child = make_customer(crm, rm, "张小明")
    partner_outside = make_customer(crm, world["rm3"], "赵六")
    relationships.add_relationship(crm, rm, cid, spouse, "spouse")
    relationships.add_relationship(crm, rm, spouse, child, "child")
    relationships.add_relationship(crm, world["bh1"], cid, partner_outside, "business_partner")
    interactions.log_interaction(crm, rm, cid, interactions.NewInteraction(
        "wechat", "到期提醒", next_action="约面谈", next_action_due=date.today() + timedelta(days=3)))
    view = profile.get_profile(crm, rm, cid)
    # the policy's masking (issue 7): the ID's last 4 only, and beside it the birth year only
    assert view.national_id_masked == "*" * 14 + nid[-4:]
    assert view.birth_date is None and view.birth_year == 1980
    assert view.phone_masked == "138****5678"
    assert view.bank_account_masked.endswith("0123") and "6222" not in view.bank_account_masked
    assert view.aum == Decimal("7000000.00")
    assert [t.name for t in view.tags] == ["高净值"] and view.tags[0].source == "rule"
    assert not view.kyc.complete and view.kyc.percent == 0
    assert view.risk_status == "missing"
    assert view.interactions[0].subject == "到期提醒" and view.interactions[0].staff_name == "王芳"
    kinds = {(n.name, n.kind, n.in_scope) for n in view.network}
    assert kinds == {("李梅", "spouse", True), ("赵六", "business_partner", False)}
    spouse_node = next(n for n in view.network if n.name == "李梅")
    assert [(c.name, c.kind) for c in spouse_node.children] == [("张小明", "child")]


def test_kyc_checklist_states(crm, world) -> None:
    rm = world["rm1"]
    cid = make_customer(crm, rm, "张三")
    complete_kyc(crm, cid)
    assert profile.get_profile(crm, rm, cid).kyc.complete
    with crm.db.write() as s:
        doc = s.scalars(select(KycDocument).where(KycDocument.kind == "address_proof")).one()
        doc.expires_on = date.today() - timedelta(days=1)
    view = profile.get_profile(crm, rm, cid)
    assert not view.kyc.complete
    assert [(i.kind, i.status) for i in view.kyc.problems] == [("address_proof", "expired")]
    assert view.kyc.percent == 67
    soon = profile.get_profile(crm, rm, cid, today=date.today() + timedelta(days=280))
    assert soon.risk_status == "expiring"
    late = profile.get_profile(crm, rm, cid, today=date.today() + timedelta(days=400))
    assert late.risk_status == "expired"


def test_edit_non_sensitive_fields_with_optimistic_lock(crm, world) -> None:
    rm = world["rm1"]
    cid = make_customer(crm, rm, "张三")
    v2 = records.update_customer(crm, rm, cid, 1, {"email": "zs@example.cn",
                                                     "annual_income": "360,000"})
    assert v2 == 2
    with pytest.raises(Conflict):
        records.update_customer(crm, world["sup1"], cid, 1, {"address": "北京市朝阳区"})
    with pytest.raises(ValidationFailed) as e:
        records.update_customer(crm, rm, cid, 2, {"email": "not-an-email", "phone": "13800000000"})
    assert set(e.value.by_field()) == {"email", "phone"}
    with crm.db.read() as s:
        row = s.get(Customer, cid)
        assert (row.email, row.annual_income_fen, row.version) == ("zs@example.cn", 36_000_000, 2)
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "customer.update")).one()
        assert '"annual_income_fen": 36000000' in ev.after and ev.actor_name == "rm1"


def test_reveal_needs_permission_and_reason_and_is_audited(crm, world) -> None:
    cid = make_customer(crm, world["rm1"], "张三", phone="13812345678")
    with pytest.raises(ValidationFailed):
        records.reveal_sensitive(crm, world["rm1"], cid, "phone", " ")
    with pytest.raises(PermissionDenied):
        records.reveal_sensitive(crm, world["svc1"], cid, "phone", "客户来电")
    assert records.reveal_sensitive(crm, world["rm1"], cid, "phone", "客户来电核实") == "13812345678"
    with crm.db.read() as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "customer.reveal")).one()
    assert "客户来电核实" in ev.after and "13812345678" not in ev.after


def test_duplicate_national_id_is_refused(crm, world) -> None:
    nid = new_id()
    make_customer(crm, world["rm1"], "张三", national_id=nid)
    with pytest.raises(ValidationFailed) as e:
        make_customer(crm, world["rm2"], "张三丰", national_id=nid)
    assert e.value.errors[0].field == "national_id"


def test_manual_and_rule_tags(crm, world) -> None:
    rm = world["rm1"]
    cid = make_customer(crm, rm, "张三", aum="100")
    tags.add_tag(crm, rm, cid, "重点维护")
    tags.add_tag(crm, rm, cid, "重点维护")  # idempotent
    view = profile.get_profile(crm, rm, cid)
    assert [(t.name, t.source) for t in view.tags] == [("重点维护", "manual")]
    with pytest.raises(Blocked):
        tags.add_tag(crm, rm, cid, "高净值")
    tags.remove_tag(crm, rm, cid, view.tags[0].id)
    assert profile.get_profile(crm, rm, cid).tags == ()
    with pytest.raises(PermissionDenied):
        tags.add_tag(crm, world["svc1"], cid, "x")


def test_rule_tags_follow_the_policy(crm, world) -> None:
    from crm_tui.domain.compliance.policy_changes import apply_policy_text
    from crm_tui.domain.policy.document import default_policy_text

    rm = world["rm1"]
    rich = make_customer(crm, rm, "张三", aum="6,000,000.00", risk_level="C1")
    poor = make_customer(crm, rm, "李四", aum="5,999,999.99")
    names = lambda cid: {t.name for t in profile.get_profile(crm, rm, cid).tags}  # noqa: E731
    assert names(rich) == {"高净值", "保守型"} and names(poor) == set()
    text = default_policy_text().replace("value = 6000000", "value = 5000000")
    counts = apply_policy_text(crm, world["admin"], text)
    assert counts["高净值"] == 2
    assert names(poor) == {"高净值"}
    assert audit.verify_chain(crm.db).ok


def test_whole_bank_search_walks_one_index_and_pages(crm, world) -> None:
    """Compliance searches every branch: initials and full pinyin each page, each rank
    most recently contacted first (nobody contacted here: the newest first)."""
    ids = {}
    for rm, name in (("rm1", "张三"), ("rm_sh", "赵四"), ("rm3", "张思"), ("rm1", "周松"),
                     ("rm_sh", "张山")):
        ids[name] = make_customer(crm, world[rm], name)
    comp = world["comp1"]
    first = search.search_customers(crm, comp, "zs", limit=2)
    rest = search.search_customers(crm, comp, "zs", limit=10,
                                      after=(first[-1].sort_key, first[-1].id))
    assert [h.sort_key for h in first + rest] == ["0:0:"] * 5  # rank 0: exact initials
    assert {h.name for h in first + rest} == {"张三", "赵四", "张思", "周松", "张山"}
    assert len({h.id for h in first + rest}) == 5
    zhang = search.search_customers(crm, comp, "zhangs")
    assert [h.name for h in zhang] == ["张山", "张思", "张三"]
    assert [h.sort_key for h in zhang] == ["1:0:"] * 3  # rank 1: a pinyin prefix
    # The RM's own search still matches initials and pinyin together.
    assert [h.name for h in search.search_customers(crm, world["rm1"], "z")] == ["周松", "张三"]


def test_search_ranks_exact_before_prefix_then_pinyin(crm, world) -> None:
    """Issue 8: for a branch head `zs` put 张三 (exact initials) before 周淑兰 (longer
    initials); an exact name before names that start with it. Within a rank, nobody
    contacted: the newest first."""
    for name in ("周淑兰", "周帅", "张三", "周淑英", "张三丰", "赵山松"):
        make_customer(crm, world["rm1"], name)
    bh = world["bh1"]
    ranked = ["张三", "周帅", "赵山松", "张三丰", "周淑英", "周淑兰"]
    assert [h.name for h in search.search_customers(crm, bh, "zs")] == ranked
    assert [h.name for h in search.search_customers(crm, bh, "张三")] == ["张三", "张三丰"]
    # pages across ranks without repeating anyone
    first = search.search_customers(crm, bh, "zs", limit=2)
    rest = search.search_customers(crm, bh, "zs", after=(first[-1].sort_key, first[-1].id))
    assert [h.name for h in first + rest] == ranked


def test_a_policy_applied_elsewhere_reaches_a_running_process(crm, world, monkeypatch) -> None:
    """Another terminal's Crm handle (same store, own cache) picks up the new version."""
    from crm_tui.domain.compliance.policy_changes import apply_policy_text
    from crm_tui.domain.kernel import context
    from crm_tui.domain.policy.document import default_policy_text

    other = context.Crm(crm.db, crm.keys, crm.settings, crm.key_file)
    assert other.policy().tag_rules[0].value == 6000000
    apply_policy_text(crm, world["admin"], default_policy_text().replace(
        "value = 6000000", "value = 5000000"))
    assert other.policy().tag_rules[0].value == 6000000  # still inside the re-check window
    monkeypatch.setattr(context, "POLICY_RECHECK_SECONDS", 0.0)
    assert other.policy().tag_rules[0].value == 5000000


def test_profile_masking_follows_the_policy(crm, world) -> None:
    """Issue 7/8: the profile masks by the policy, and `birth_date_beside_id = "hide"`
    leaves no part of the birth date beside the masked ID."""
    from crm_tui.domain.compliance.policy_changes import apply_policy_text
    from crm_tui.domain.policy.document import default_policy_text

    nid = new_id("19850612")
    cid = make_customer(crm, world["rm1"], "张三", national_id=nid, phone="13812345678")
    text = default_policy_text()
    assert "[masking]" not in text  # the shipped policy takes the defaults
    apply_policy_text(crm, world["admin"], text + '\n[masking]\nbirth_date_beside_id = "hide"\n'
                      "national_id_tail = 2\nphone_head = 0\n")
    view = profile.get_profile(crm, world["rm1"], cid)
    assert view.national_id_masked == "*" * 16 + nid[-2:]
    assert view.phone_masked == "*******5678"
    assert view.birth_date is None and view.birth_year is None

"""The form engine: custom field definitions, validation of every type, sensitive values,
retire and re-add, refused type changes, versions and audit (SQLite and PostgreSQL)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select, text

from crm_tui.domain.customers.custom_values import custom_values, update_custom_fields
from crm_tui.domain.forms import definitions as D
from crm_tui.domain.forms import registry
from crm_tui.domain.forms.patterns import check_pattern
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.kernel.errors import PermissionDenied, ValidationFailed
from crm_tui.domain.kernel.validation import BadValue
from crm_tui.store.models import AuditEvent, Customer
from crm_tui.store.models_forms import FieldDefinitionVersion
from tests.helpers import make_customer

ADMIN = system_actor("test")


def _keys(exc: pytest.ExceptionInfo[ValidationFailed]) -> set[tuple[str, str]]:
    return {(e.field, e.key) for e in exc.value.errors}


def _define_all(crm) -> None:
    D.add_field(crm, ADMIN, "customer", "wechat_id", type="text", label_zh="微信号",
                label_en="WeChat ID", pattern=r"[A-Za-z][-_A-Za-z0-9]{5,19}", filterable=True)
    D.add_field(crm, ADMIN, "customer", "children", type="number", label_zh="子女数",
                label_en="Children", min_value="0", max_value="20")
    D.add_field(crm, ADMIN, "customer", "budget", type="decimal", label_zh="预算",
                label_en="Budget", min_value="0")
    D.add_field(crm, ADMIN, "customer", "met_on", type="date", label_zh="初识日期",
                label_en="Met on")
    D.add_field(crm, ADMIN, "customer", "vip_event", type="bool", label_zh="参加贵宾活动",
                label_en="VIP event")
    D.add_field(crm, ADMIN, "customer", "source_campaign", type="choice", label_zh="来源活动",
                label_en="Source campaign", choices=["春季理财节", "代发工资", "老带新"],
                required=True)
    D.add_field(crm, ADMIN, "customer", "hobbies", type="multi_choice", label_zh="爱好",
                label_en="Hobbies", choices=["高尔夫", "茶艺", "书法"])


def test_every_type_valid_and_invalid(crm, world) -> None:
    _define_all(crm)
    rm1 = world["rm1"]
    cid = make_customer(crm, rm1, "张三")
    with pytest.raises(ValidationFailed) as bad:
        update_custom_fields(crm, rm1, cid, 1, {
            "wechat_id": "1abc", "children": "2.5", "budget": "abc", "met_on": "2026-02-30",
            "vip_event": "maybe", "source_campaign": "双十一", "hobbies": "高尔夫,跳伞"})
    assert _keys(bad) == {("wechat_id", "validation.pattern"), ("children", "validation.integer"),
                          ("budget", "validation.number"), ("met_on", "validation.date"),
                          ("vip_event", "validation.bool"),
                          ("source_campaign", "validation.choice"),
                          ("hobbies", "validation.choice")}
    with pytest.raises(ValidationFailed) as bad:
        update_custom_fields(crm, rm1, cid, 1, {"children": "21", "source_campaign": ""})
    assert _keys(bad) == {("children", "validation.max"), ("source_campaign", "validation.required")}
    v = update_custom_fields(crm, rm1, cid, 1, {
        "wechat_id": "zhang_san88", "children": "2", "budget": "1234.50", "met_on": "2025-03-08",
        "vip_event": "是", "source_campaign": "老带新", "hobbies": "高尔夫，茶艺"})
    assert v == 2
    with crm.db.read() as s:
        assert s.get(Customer, cid).custom == {
            "wechat_id": "zhang_san88", "children": 2, "budget": "1234.50",
            "met_on": "2025-03-08", "vip_event": True, "source_campaign": "老带新",
            "hobbies": ["高尔夫", "茶艺"]}
    shown = {c.key: c.text for c in custom_values(crm, rm1, cid)}
    assert shown["hobbies"] == "高尔夫, 茶艺" and shown["vip_event"] == "✓"
    # a stale version is a conflict, not an overwrite
    from crm_tui.domain.kernel.errors import Conflict

    with pytest.raises(Conflict):
        update_custom_fields(crm, rm1, cid, 1, {"children": "3"})
    # filterable: an expression index exists and the filter finds the customer
    with crm.db.read() as s:
        expr = D.custom_value_expr("customer", "wechat_id", Customer.custom)
        assert s.scalars(select(Customer.id).where(expr == "zhang_san88")).all() == [cid]
        if crm.db.is_sqlite:
            names = {r[0] for r in s.execute(text(
                "select name from sqlite_master where type='index' and tbl_name='customer'"))}
        else:
            names = {r[0] for r in s.execute(text(
                "select indexname from pg_indexes where tablename='customer'"))}
        assert "ix_customer_cf_wechat_id" in names


def test_definitions_are_checked_versioned_and_audited(crm, world) -> None:
    with pytest.raises(PermissionDenied):
        D.add_field(crm, world["rm1"], "customer", "x1", label_zh="甲", label_en="A")
    with pytest.raises(ValidationFailed) as bad:
        D.add_field(crm, ADMIN, "customer", "Bad Key", label_zh="甲", label_en="A")
    assert _keys(bad) == {("key", "forms.error.key")}
    with pytest.raises(ValidationFailed) as bad:
        D.add_field(crm, ADMIN, "customer", "tier", type="choice", label_zh="", label_en="Tier")
    assert {f for f, _ in _keys(bad)} == {"label_zh"}
    with pytest.raises(ValidationFailed) as bad:
        D.add_field(crm, ADMIN, "customer", "tier", type="choice", label_zh="层级",
                    label_en="Tier")
    assert _keys(bad) == {("choices", "forms.error.choices_needed")}
    with pytest.raises(ValidationFailed) as bad:
        D.add_field(crm, ADMIN, "customer", "code", label_zh="编码", label_en="Code",
                    pattern="(a+)+$")
    assert _keys(bad) == {("pattern", "forms.error.pattern_nested")}
    with pytest.raises(ValidationFailed) as bad:
        D.add_field(crm, ADMIN, "customer", "code", label_zh="编码", label_en="Code",
                    pattern="([a-z")
    assert _keys(bad) == {("pattern", "forms.error.pattern_invalid")}
    D.add_field(crm, ADMIN, "customer", "tier", type="choice", label_zh="层级", label_en="Tier",
                choices=["金卡", "白金"])
    with pytest.raises(ValidationFailed) as bad:
        D.add_field(crm, ADMIN, "customer", "tier", type="text", label_zh="层级", label_en="Tier")
    assert _keys(bad) == {("key", "forms.error.exists")}
    D.edit_field(crm, ADMIN, "customer", "tier", label_en="Card tier")
    D.retire_field(crm, ADMIN, "customer", "tier")
    assert [f.key for f in registry.custom_fields(crm, "customer")] == []
    assert [f.status for f in D.list_fields(crm, ADMIN, "customer", include_retired=True)] == ["retired"]
    D.add_field(crm, ADMIN, "customer", "tier", type="choice", label_zh="层级", label_en="Tier",
                choices=["金卡", "白金", "钻石"])
    history = D.field_history(crm, ADMIN, "customer", "tier")
    assert [(h["version"], h["change"]) for h in history] == [
        (1, "add"), (2, "edit"), (3, "retire"), (4, "readd")]
    assert history[1]["definition"]["label_en"] == "Card tier"
    with crm.db.read() as s:
        assert s.scalar(select(func.count()).select_from(FieldDefinitionVersion)) == 4
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.like("field.%"))) == 4  # type: ignore[union-attr]


def test_retired_values_stay_and_readd_brings_them_back(crm, world) -> None:
    D.add_field(crm, ADMIN, "customer", "wechat_id", label_zh="微信号", label_en="WeChat ID")
    cid = make_customer(crm, world["rm1"], "李四")
    update_custom_fields(crm, world["rm1"], cid, 1, {"wechat_id": "lisi_2026"})
    D.retire_field(crm, ADMIN, "customer", "wechat_id")
    assert custom_values(crm, world["rm1"], cid) == ()
    with crm.db.read() as s:
        assert s.get(Customer, cid).custom == {"wechat_id": "lisi_2026"}
    with pytest.raises(ValidationFailed):  # a retired field cannot be written
        update_custom_fields(crm, world["rm1"], cid, 2, {"wechat_id": "x"})
    D.add_field(crm, ADMIN, "customer", "wechat_id", label_zh="微信号", label_en="WeChat ID")
    assert [c.text for c in custom_values(crm, world["rm1"], cid)] == ["lisi_2026"]


def test_a_type_change_that_would_lose_values_is_refused(crm, world) -> None:
    D.add_field(crm, ADMIN, "customer", "score", label_zh="评分", label_en="Score")
    rm1 = world["rm1"]
    ids = [make_customer(crm, rm1, n) for n in ("王一", "王二", "王三")]
    for cid, value in zip(ids, ("12", "七", "3.5"), strict=True):
        update_custom_fields(crm, rm1, cid, 1, {"score": value})
    with pytest.raises(ValidationFailed) as bad:
        D.edit_field(crm, ADMIN, "customer", "score", type="number")
    err = bad.value.errors[0]
    assert (err.field, err.key, err.params["count"]) == ("type", "forms.error.unconvertible", 2)
    assert f"#{ids[1]}: 七" in err.params["examples"]
    with pytest.raises(ValidationFailed):  # 七 still blocks decimal
        D.edit_field(crm, ADMIN, "customer", "score", type="decimal")
    update_custom_fields(crm, rm1, ids[1], 2, {"score": "7"})
    assert D.edit_field(crm, ADMIN, "customer", "score", type="decimal").type == "decimal"


def test_sensitive_custom_field_is_encrypted_and_goes_through_maker_checker(crm, world) -> None:
    from crm_tui.domain.compliance import approvals
    from crm_tui.domain.compliance.custom_field_changes import request_custom_change

    D.add_field(crm, ADMIN, "customer", "passport_no", label_zh="护照号", label_en="Passport",
                sensitive=True)
    rm1 = world["rm1"]
    cid = make_customer(crm, rm1, "赵六")
    with pytest.raises(ValidationFailed) as bad:
        update_custom_fields(crm, rm1, cid, 1, {"passport_no": "E12345678"})
    assert _keys(bad) == {("passport_no", "validation.sensitive_needs_approval")}
    rid = request_custom_change(crm, rm1, cid, "passport_no", "E12345678", "客户换发新护照")
    approvals.approve(crm, world["sup1"], rid)
    with crm.db.read() as s:
        stored = s.get(Customer, cid).custom["passport_no"]
    assert "E12345678" not in stored
    assert [c.text for c in custom_values(crm, rm1, cid)] == ["E*******8"]
    with crm.db.read() as s:
        after = s.scalars(select(AuditEvent.after).where(
            AuditEvent.action == "customer.sensitive_change")).one()
    assert "E12345678" not in after


def test_other_sessions_see_a_new_field_within_seconds(crm, world, monkeypatch) -> None:
    from crm_tui.domain.kernel.context import Crm

    other = Crm(crm.db, crm.keys, crm.settings, crm.key_file)
    assert registry.custom_fields(other, "customer") == ()
    D.add_field(crm, ADMIN, "customer", "wechat_id", label_zh="微信号", label_en="WeChat ID")
    # same database handle in this process: the change is visible at once
    assert [f.key for f in registry.custom_fields(other, "customer")] == ["wechat_id"]
    # another process: simulate a stale cache that re-checks after RECHECK_SECONDS
    cache = registry._caches[id(crm.db)]
    cache.generation = "stale"
    cache.checked = time.monotonic() - registry.RECHECK_SECONDS - 1
    assert [f.key for f in registry.custom_fields(other, "customer")] == ["wechat_id"]


@pytest.mark.parametrize("pattern", [r"(a*)*", r"(a|aa)+", r"(\d+)+x", r"(a)\1", r"(?=a)a"])
def test_dangerous_patterns_are_refused(pattern) -> None:
    with pytest.raises(BadValue):
        check_pattern(pattern)


@pytest.mark.parametrize("pattern", [r"[A-Z]{2}\d{6}", r"\d{3}-\d{4}", r"[a-z_]+", r"(ab){2,3}"])
def test_ordinary_patterns_are_allowed(pattern) -> None:
    assert check_pattern(pattern) == pattern


def test_key_rotation_reseals_sensitive_custom_values_and_requests(sqlite_crm, sqlite_world,
                                                                   tmp_path) -> None:
    from crm_tui.domain.admin.keys import rotate_keys
    from crm_tui.domain.compliance import approvals
    from crm_tui.domain.compliance.custom_field_changes import request_custom_change
    from crm_tui.store.crypto import write_key_file
    from crm_tui.store.models_compliance import ApprovalRequest

    crm, world = sqlite_crm, sqlite_world
    write_key_file(crm.key_file, crm.keys)
    old = crm.keys.active
    D.add_field(crm, ADMIN, "customer", "passport_no", label_zh="护照号", label_en="Passport",
                sensitive=True)
    cid = make_customer(crm, world["rm1"], "钱七")
    approvals.approve(crm, world["sup1"], request_custom_change(
        crm, world["rm1"], cid, "passport_no", "E12345678", "新护照"))
    pending = request_custom_change(crm, world["rm1"], cid, "passport_no", "E87654321", "再换")
    rotate_keys(crm, ADMIN)
    assert crm.keys.active != old
    with crm.db.read() as s:
        token = s.get(Customer, cid).custom["passport_no"]
        req_token = s.get(ApprovalRequest, pending).payload["data"]["value_enc"]
    assert token.startswith(crm.keys.active + "$") and req_token.startswith(crm.keys.active + "$")
    assert [c.text for c in custom_values(crm, world["rm1"], cid)] == ["E*******8"]
    approvals.approve(crm, world["sup1"], pending)
    with crm.db.read() as s:
        stored = s.get(Customer, cid).custom["passport_no"]
    assert crm.keys.decrypt("custom.customer.passport_no", stored) == "E87654321"

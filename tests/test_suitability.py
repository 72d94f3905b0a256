"""Suitability: the policy matrix, the risk assessment's validity and the KYC file."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from crm_tui.domain.compliance.suitability import check_suitability, suitability_for
from crm_tui.domain.customers.views import KycChecklist, KycItem
from crm_tui.domain.kernel.errors import PolicyInvalid
from crm_tui.domain.policy.document import PRODUCT_RISKS, RISK_LEVELS, default_policy_text, parse_policy
from crm_tui.i18n import render
from crm_tui.store.models import KycDocument, RiskAssessment
from tests.compliance_world import add_customer, build_book

TODAY = date(2026, 3, 1)
COMPLETE = KycChecklist((KycItem("id_proof", "ok"), KycItem("address_proof", "ok"),
                         KycItem("risk_questionnaire", "ok")))


def _check(level, risk, kyc=COMPLETE, valid_until=TODAY + timedelta(days=30)):
    return check_suitability(parse_policy(default_policy_text()), kyc=kyc, customer_level=level,
                             valid_until=valid_until, product_risk=risk, today=TODAY)


@pytest.mark.parametrize("ci", range(5))
@pytest.mark.parametrize("ri", range(5))
def test_default_matrix_every_cell(ci, ri):
    result = _check(RISK_LEVELS[ci], PRODUCT_RISKS[ri])
    expected = "allow" if ri <= ci else "approve" if ri == ci + 1 else "block"
    assert result.action == expected
    if expected == "approve":
        assert result.approver_role == "compliance"
        assert "Compliance" in render(result.note)


def test_c1_may_buy_only_r1_and_r4_is_blocked_with_reason():
    assert _check("C1", "R1").action == "allow"
    blocked = _check("C1", "R4")
    assert blocked.action == "block"
    assert render(blocked.note) == "Not suitable: a C1 customer may not buy an R4 product."


def test_expired_or_missing_assessment_blocks_even_an_r1():
    expired = _check("C5", "R1", valid_until=TODAY - timedelta(days=1))
    assert (expired.action, expired.reason_key) == ("block", "compliance.suitability.risk_expired")
    assert "2026-02-28" in render(expired.note)
    missing = _check(None, "R1", valid_until=None)
    assert (missing.action, missing.reason_key) == ("block", "compliance.suitability.risk_missing")


def test_incomplete_kyc_blocks_any_sale():
    kyc = KycChecklist((KycItem("id_proof", "ok"), KycItem("address_proof", "expired"),
                        KycItem("risk_questionnaire", "ok")))
    result = _check("C5", "R1", kyc=kyc)
    assert result.action == "block"
    assert "Address proof" in render(result.note)


def test_matrix_validation_names_the_cell():
    text = default_policy_text().replace('R4 = "allow", R5 = "allow" }',
                                         'R4 = "allow", R5 = "maybe" }')
    with pytest.raises(PolicyInvalid) as err:
        parse_policy(text)
    assert "suitability.matrix" in err.value.message and "C5.R5" in err.value.message
    partial = default_policy_text().replace(
        'C5 = { R1 = "allow", R2 = "allow", R3 = "allow", R4 = "allow", R5 = "allow" }', "")
    with pytest.raises(PolicyInvalid):
        parse_policy(partial)


def test_policy_without_compliance_sections_gets_defaults():
    import tomllib

    from crm_tui.domain.policy.document import Policy

    data = tomllib.loads(default_policy_text())
    bare = Policy.model_validate({"kyc": data["kyc"]})
    full = parse_policy(default_policy_text())
    assert bare.approvals == full.approvals
    assert bare.suitability == full.suitability
    assert bare.alert_rules == full.alert_rules


def test_suitability_for_uses_assessment_as_evidence(crm, world):
    book = build_book(crm, world)
    result = suitability_for(crm, world["rm1"], book.customers["c1"], "P-R4")
    assert result.action == "approve"
    ev = result.evidence
    assert ev is not None and ev.assessment_level == "C3" and ev.product_risk == "R4"
    assert ev.assessment_id is not None and ev.assessed_on is not None


def test_real_customer_with_expired_assessment_and_missing_document(crm, world):
    build_book(crm, world)
    cid = add_customer(crm, world, "rm1", "钱七", "C4", "11010119800101005", kyc=False)
    result = suitability_for(crm, world["rm1"], cid, "P-R1")
    assert result.reason_key == "compliance.suitability.kyc_incomplete"
    with crm.db.write() as s:
        for kind in ("id_proof", "address_proof"):
            s.add(KycDocument(customer_id=cid, kind=kind, status="verified",
                              expires_on=date.today() + timedelta(days=90)))
        s.add(RiskAssessment(customer_id=cid, level="C4", score=60,
                             valid_until=date.today() - timedelta(days=1)))
    result = suitability_for(crm, world["rm1"], cid, "P-R1")
    assert result.reason_key == "compliance.suitability.risk_expired"

"""The policy's service section: the shipped defaults are the issue's, and a bad setting is
refused naming its key and the problem."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm_tui.domain.kernel.errors import PolicyInvalid
from crm_tui.domain.policy.document import default_policy_text, parse_policy


def test_defaults() -> None:
    service = parse_policy(default_policy_text()).service
    assert {p: (t.first_response_hours, t.resolution_hours) for p, t in service.sla.items()} == {
        "urgent": (1, 4), "high": (2, 8), "normal": (4, 24), "low": (8, 40)}
    assert service.complaints.resolution_days == 15
    assert service.complaints.levels == ["general", "serious", "major"]
    assert [(t.tier, t.cadence_months) for t in service.review_tiers] == [
        ("private_banking", 3), ("hnw", 3), ("affluent", 6), ("mass", 12)]
    assert service.review_tiers[0].min_aum == Decimal(30_000_000)
    assert {h.name for h in service.care.holidays} >= {"spring_festival", "mid_autumn",
                                                       "national_day", "new_year"}


@pytest.mark.parametrize(("toml", "key", "problem"), [
    ("[service.outbox]\nmax_attempts = 0\n", "service.outbox", "greater than or equal to 1"),
    ("[service.complaints]\nresolution_days = -1\n", "service.complaints", "greater than 0"),
])
def test_bad_settings_are_refused_with_key_and_problem(toml: str, key: str, problem: str) -> None:
    text = default_policy_text()
    section = toml.split("\n", 1)[0]
    start = text.index(section + "\n")
    end = text.find("\n[", start + 1)
    end = len(text) if end < 0 else end
    bad = text[:start] + toml + text[end:]
    with pytest.raises(PolicyInvalid) as err:
        parse_policy(bad)
    assert err.value.params["key"].startswith(key)
    assert problem in err.value.params["detail"]


def test_bad_sla_and_routes_and_templates() -> None:
    text = default_policy_text()
    for old, new, key, problem in (
        ("urgent = { first_response_hours = 1, resolution_hours = 4 }",
         "urgent = { first_response_hours = 5, resolution_hours = 4 }", "service.sla.urgent",
         "resolution_hours must not be shorter"),
        ('[[service.routes]]\nqueue = "general"\n', "", "service",
         "the last route must be the catch-all"),
        ('{ name = "mid_autumn", on = "lunar:08-15" }', '{ name = "mid_autumn", on = "lunar:08-31" }',
         "service.care.holidays", "at most 30 days"),
        ('body = "【{{ bank }}】尊敬的{{ name }}，祝您生日快乐',
         'body = "【{{ bank }】尊敬的{{ name }}，祝您生日快乐', "service.care.templates.birthday",
         "template"),
        ("day_end = 17:00:00", "day_end = 08:00:00", "service.calendar",
         "day_end must be after day_start"),
    ):
        assert old in text, old
        with pytest.raises(PolicyInvalid) as err:
            parse_policy(text.replace(old, new, 1))
        assert err.value.params["key"].startswith(key), err.value.params
        assert problem in err.value.params["detail"], err.value.params
        assert f"{err.value.params['key']}: " in err.value.message

"""Report definitions, valid and invalid: every problem named by its path in the definition
with a message a file's author can act on; saved reports created, edited (version checked),
deleted with their audit events; who may change whose report."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.kernel.errors import Conflict, PermissionDenied, ValidationFailed
from crm_tui.domain.reporting.report_definitions import parse_definition, parse_toml, to_toml
from crm_tui.domain.reporting.reports import (
    compile_definition,
    delete_report,
    get_report,
    import_reports,
    list_reports,
    save_report,
)
from crm_tui.store.models import AuditEvent
from tests.report_support import build_book

GOOD = """
name = "aum-by-tier"
title_zh = "各层级资产"
title_en = "AUM by tier"
entity = "customers"
dimensions = ["tier", "created_at:year"]
measures = ["count", "sum:aum", { fn = "rate", key = "active", when = [
    { field = "status", value = "active" }] }]
filters = [
    { field = "kind", value = "individual" },
    { field = "aum", op = "between", value = ["0", "5000000"] },
]
sort = "-sum_aum"
limit = 20
"""


def lines(exc: ValidationFailed) -> list[str]:
    return [e.line() for e in exc.errors]


def checked(crm, world, **changes) -> list[str]:
    data = parse_toml(GOOD).model_dump(exclude_none=True) | changes
    with pytest.raises(ValidationFailed) as bad:
        compile_definition(crm, world["bh1"], parse_definition(data))
    return lines(bad.value)


def test_a_good_definition_round_trips_through_toml(crm, world) -> None:
    d = parse_toml(GOOD)
    assert parse_toml(to_toml(d)) == d
    assert d.measure_keys() == ["count", "sum_aum", "active"]
    compiled = compile_definition(crm, world["bh1"], d)
    assert [c.key for c in compiled.columns] == ["tier", "created_at:year", "count", "sum_aum", "active"]


def test_shape_problems_name_their_keys() -> None:
    with pytest.raises(ValidationFailed) as bad:
        parse_toml('name = "Bad Name"\ntitle_zh = "x"\nentity = "customers"\nmeasures = []\n'
                   'colour = "red"\nlimit = 0\nchart = "pie"')
    assert lines(bad.value) == [
        "name: may hold only lower-case letters, digits, - and _ (starting with a letter or digit)",
        "title_en: is required",
        "measures: needs at least 1",
        "limit: must be at least 1",
        "chart: must be one of 'bar', 'line' or 'none'",
        "colour: is not a key of a report definition"]
    with pytest.raises(ValidationFailed) as bad:
        parse_toml("name = [unclosed")
    assert lines(bad.value)[0].startswith("toml: the file is not valid TOML")
    with pytest.raises(ValidationFailed) as bad:
        parse_definition({**parse_toml(GOOD).model_dump(), "measures": [{"fn": "median"}]})
    assert lines(bad.value) == ["measures[0].fn: must be one of 'count', 'sum', 'avg' or 'rate'"]


def test_meaning_problems_name_their_keys(crm, world) -> None:
    assert checked(crm, world, entity="custmers") == [
        "entity: unknown entity “custmers” (one of customers, opportunities, tickets, leads, "
        "trades, holdings)"]
    assert checked(crm, world, measures=["sum:name", "sum", "avg:nope", "sum:tier", "count:aum"],
                   sort=None) == [
        "measures[0].field: “name” is not a field of this entity (`crm report fields ENTITY` lists them)",
        "measures[1].field: sum needs a field to add up",
        "measures[2].field: “nope” is not a field of this entity (`crm report fields ENTITY` lists them)",
        "measures[3].field: “tier” is of kind choice; sum needs a number",
        "measures[4].field: count takes no field"]
    assert checked(crm, world, measures=[{"fn": "rate"}, {"fn": "count", "when": [
        {"field": "status", "value": "active"}]}], sort=None) == [
        "measures[0].when: a rate needs its condition: when = [ … ], each with a field, an op and a value",
        "measures[1].when: only a rate takes conditions (count does not)"]
    assert checked(crm, world, dimensions=["tier", "tier"], sort=None) == [
        "dimensions: a dimension is given twice"]
    dims = checked(crm, world, dimensions=["aum", "kind:month", "created_at:week"], sort=None)
    assert dims == [
        "dimensions[0]: “aum” is of kind amount: a report cannot group by it",
        "dimensions[1]: only a date or time field is cut into day, month, quarter or year "
        "(“kind” is not one)",
        "dimensions[2]: “week” is not one of day, month, quarter, year"]
    assert checked(crm, world, filters=[
        {"field": "kind", "value": "company"}, {"field": "aum", "op": "gt", "value": "lots"},
        {"field": "kind", "op": "gt", "value": "x"}, {"field": "created_at", "value": "31/12/2026"},
        {"field": "status", "op": "in", "value": "active"}, {"field": "aum", "op": "between", "value": [1]},
        {"field": "created_at", "op": "last_days", "value": 0}, {"field": "kind"}]) == [
        "filters[0].value: “company” is not one of individual, institutional",
        "filters[1].value: “lots” is not a number",
        "filters[2].op: gt does not apply to a field of kind choice",
        "filters[3].value: “31/12/2026” is not a date (YYYY-MM-DD)",
        "filters[4].value: in needs a list of values",
        "filters[5].value: between needs two values: [from, to]",
        "filters[6].value: “0” is not a number of days (1–36500)",
        "filters[7].value: eq needs a value"]
    assert checked(crm, world, sort="-median") == [
        "sort: “-median” is not a column of this report (tier, created_at:year, count, sum_aum, active)"]
    assert checked(crm, world, measures=["count", {"fn": "sum", "field": "aum", "key": "count"}],
                   sort=None) == [
        "measures[0].key: “count” names two columns: give the measure a key of its own",
        "measures[1].key: “count” names two columns: give the measure a key of its own"]


def test_custom_fields_are_checked_too(crm, world) -> None:
    build_book(crm, world)
    assert checked(crm, world, measures=["sum:custom.segment"], sort=None) == [
        "measures[0].field: “custom.segment” is of kind choice; sum needs a number"]
    assert checked(crm, world, filters=[{"field": "custom.segment", "value": "vip"}]) == [
        "filters[0].value: “vip” is not one of retail, sme"]


def test_save_edit_delete_with_audit_and_versions(crm, world) -> None:
    d = parse_toml(GOOD)
    saved = save_report(crm, world["rm1"], d)
    assert saved.version == 1 and saved.created_by == "rm1"
    with pytest.raises(ValidationFailed) as bad:
        save_report(crm, world["rm2"], d)
    assert lines(bad.value) == ["Name: a report named “aum-by-tier” exists already"]
    renamed = d.model_copy(update={"name": "aum-tiers", "limit": 10})
    edited = save_report(crm, world["rm1"], renamed, original="aum-by-tier", version=1)
    assert edited.version == 2 and get_report(crm, world["rm1"], "aum-tiers").definition.limit == 10
    with pytest.raises(Conflict):  # someone holding version 1 saves after the rename
        save_report(crm, world["rm1"], renamed, original="aum-tiers", version=1)
    with pytest.raises(PermissionDenied):  # another RM may run it, not change it
        save_report(crm, world["rm2"], renamed.model_copy(update={"limit": 5}),
                    original="aum-tiers", version=2)
    save_report(crm, world["bh1"], renamed.model_copy(update={"limit": 5}),
                original="aum-tiers", version=2)  # a branch head may
    with pytest.raises(PermissionDenied):
        delete_report(crm, world["rm2"], "aum-tiers")
    delete_report(crm, world["rm1"], "aum-tiers")
    assert list_reports(crm, world["rm1"]) == []
    with crm.db.read() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.entity == "saved_report")
                            .order_by(AuditEvent.id)).all()
    assert actions == ["report.create", "report.update", "report.update", "report.delete"]
    with pytest.raises(ValidationFailed, match="service"):  # the service desk reads no figures
        save_report(crm, world["svc1"], d)


def test_import_checks_every_file_before_saving_any(crm, world, tmp_path) -> None:
    (tmp_path / "a.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.toml").write_text(GOOD.replace("aum-by-tier", "b").replace('"count", ', '"count:x", '),
                                     encoding="utf-8")
    with pytest.raises(ValidationFailed) as bad:
        import_reports(crm, system_actor("t"), [tmp_path])
    assert lines(bad.value) == ["b.toml: measures[0].field: count takes no field"]
    assert list_reports(crm, system_actor("t")) == []
    (tmp_path / "b.toml").unlink()
    assert import_reports(crm, system_actor("t"), [tmp_path], dry_run=True) == [("aum-by-tier", "checked")]
    assert import_reports(crm, system_actor("t"), [tmp_path]) == [("aum-by-tier", "created")]
    assert import_reports(crm, system_actor("t"), [tmp_path / "a.toml"]) == [("aum-by-tier", "unchanged")]
    (tmp_path / "a.toml").write_text(GOOD.replace("limit = 20", "limit = 30"), encoding="utf-8")
    assert import_reports(crm, system_actor("t"), [tmp_path]) == [("aum-by-tier", "updated")]


def test_the_documented_example_checks(crm, world) -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "REPORTS.md").read_text(encoding="utf-8")
    example = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    d = parse_toml(example)
    compiled = compile_definition(crm, world["bh1"], d)
    assert [c.key for c in compiled.columns] == ["closed_at:month", "product_category", "count",
                                                 "sum_amount", "avg_cycle_days", "big"]

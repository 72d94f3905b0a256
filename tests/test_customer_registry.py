"""The customer field registry drives create, edit, import, export and maker-checker: one
declaration, one limit, the same answer on every path."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from crm_tui.domain.compliance import sensitive_changes
from crm_tui.domain.customers import records
from crm_tui.domain.customers.fields import (
    APPROVAL_FIELDS,
    EDITABLE_FIELDS,
    SENSITIVE_FIELDS,
    clean_customer,
    customer_field,
)
from crm_tui.domain.data_io.exporter import COLUMNS, export_customers
from crm_tui.domain.data_io.importer import ImportOptions, import_customers
from crm_tui.domain.data_io.readers import ALIASES
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import ValidationFailed
from crm_tui.domain.policy.document import SENSITIVE_CHANGE_FIELDS
from crm_tui.i18n import set_language, t
from tests.conftest import World
from tests.customer_files import HEADERS_ZH, rows, write_csv
from tests.helpers import make_customer, new_id

LIMIT = customer_field("address").max_length or 0


def test_the_lists_come_from_one_declaration() -> None:
    assert LIMIT == 400
    assert SENSITIVE_FIELDS == ("national_id", "phone", "bank_account")
    assert set(EDITABLE_FIELDS) == {"email", "address", "occupation", "annual_income", "goals"}
    # the policy may narrow maker-checker to some of these fields, never name another one
    assert set(SENSITIVE_CHANGE_FIELDS) == set(APPROVAL_FIELDS)
    # today's Chinese import headers are all still accepted
    for header, field in zip(HEADERS_ZH, ("name", "id_type", "national_id", "phone", "email",
                                          "birth_date", "gender", "address", "risk_level", "aum",
                                          "branch_code", "rm_username"), strict=True):
        assert header in ALIASES[field]
    assert "goals" not in ALIASES and "id" not in ALIASES


def test_address_limit_is_one_limit_on_create_and_edit(crm: Crm, world: World) -> None:
    rm = world["rm1"]
    too_long, exact = "路" * (LIMIT + 1), "路" * LIMIT
    with pytest.raises(ValidationFailed) as exc:
        records.create_customer(crm, rm, {"name": "钱七", "national_id": new_id(),
                                          "address": too_long})
    assert [(e.field, e.key, e.params) for e in exc.value.errors] == [
        ("address", "validation.too_long", {"max": LIMIT})]
    cid = make_customer(crm, rm, "钱七", address=exact)
    with pytest.raises(ValidationFailed) as exc:
        records.update_customer(crm, rm, cid, 1, {"address": too_long})
    assert [(e.field, e.key, e.params) for e in exc.value.errors] == [
        ("address", "validation.too_long", {"max": LIMIT})]
    assert records.update_customer(crm, rm, cid, 1, {"address": exact[:-1]}) == 2
    _, errors = clean_customer({"name": "钱七", "national_id": new_id(), "address": too_long}, row=5)
    assert [(e.field, e.key, e.row) for e in errors] == [("address", "validation.too_long", 5)]


def test_edit_refuses_approval_fields_and_roles_without_the_right(crm: Crm, world: World) -> None:
    cid = make_customer(crm, world["rm1"], "孙八")
    with pytest.raises(ValidationFailed) as exc:
        records.update_customer(crm, world["rm1"], cid, 1, {"risk_level": "C5", "status": "x"})
    assert {(e.field, e.key) for e in exc.value.errors} == {
        ("risk_level", "validation.sensitive_needs_approval"), ("status", "validation.not_editable")}
    assert records.update_customer(crm, world["rm1"], cid, 1, {"annual_income": "1,200.50"}) == 2


def test_maker_checker_parses_with_the_registry(crm: Crm, world: World) -> None:
    cid = make_customer(crm, world["rm1"], "周九")
    with pytest.raises(ValidationFailed) as exc:
        sensitive_changes.request_change(crm, world["rm1"], cid, "name", "名" * 201, reason="更名")
    assert [(e.field, e.key) for e in exc.value.errors] == [("name", "validation.too_long")]
    with pytest.raises(ValidationFailed) as exc:
        sensitive_changes.request_change(crm, world["rm1"], cid, "phone", " ", reason="换号")
    assert [(e.field, e.key) for e in exc.value.errors] == [("phone", "validation.required")]


def test_import_applies_the_same_limit(crm: Crm, world: World, tmp_path: Path) -> None:
    from crm_tui.domain.kernel.actor import system_actor

    body = [list(r) for r in rows(2)]
    address = HEADERS_ZH.index("地址")
    body[0][address] = "路" * (LIMIT + 1)
    body[1][address] = "路" * LIMIT
    errors = []
    report = import_customers(crm, system_actor(), write_csv(tmp_path / "in.csv", body),
                              ImportOptions(), on_error=errors.append)
    assert (report.stored, report.rejected) == (1, 1)
    assert [(e.row, e.field, e.key) for e in errors] == [(2, "address", "validation.too_long")]


@pytest.fixture
def exported(crm: Crm, world: World) -> Iterator[int]:
    set_language("zh_CN")
    cid = make_customer(crm, world["rm1"], "胡一", address="=HYPERLINK(1)", aum="1234567.8",
                        birth_date="1985-06-12", national_id=new_id("19850612"))
    yield cid
    set_language(None)


def test_csv_export_uses_labels_and_iso_times(crm: Crm, world: World, exported: int,
                                              tmp_path: Path) -> None:
    import csv

    export_customers(crm, world["bh1"], tmp_path / "c.csv", "csv")
    with (tmp_path / "c.csv").open(encoding="utf-8-sig", newline="") as fh:
        header, body = next(csv.reader(fh)), next(csv.reader(fh))
    assert header == [t(k) for k in COLUMNS]
    row = dict(zip(header, body, strict=True))
    assert row["地址"] == "'=HYPERLINK(1)"
    assert row["证件类型"] == "居民身份证" and row["客户类型"] == "个人"
    assert row["状态"] == "正常" and row["性别"] in ("男", "女")
    assert row["资产规模"] == "1234567.80"
    assert row["出生日期"] == "1985"  # beside a masked ID only the birth year (issue 7)
    created = datetime.fromisoformat(row["建档时间"])
    assert created.utcoffset() is not None and created.utcoffset().total_seconds() == 8 * 3600


def test_xlsx_export_has_real_types(crm: Crm, world: World, exported: int, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    export_customers(crm, world["bh1"], tmp_path / "c.xlsx", "xlsx")
    ws = load_workbook(tmp_path / "c.xlsx").active
    header = [c.value for c in ws[1]]
    assert header[-1] == "建档时间 (Asia/Shanghai)"
    cells = dict(zip(header, ws[2], strict=True))
    aum = cells["资产规模"]
    assert aum.data_type == "n" and Decimal(str(aum.value)) == Decimal("1234567.8")
    assert aum.number_format == "#,##0.00"
    assert str(cells["出生日期"].value) == "1985"  # the year only beside a masked ID
    created = cells[header[-1]].value
    assert isinstance(created, datetime) and created.tzinfo is None
    assert abs((datetime.now() - created).total_seconds()) < 86_400 * 2
    assert cells["地址"].value == "'=HYPERLINK(1)" and cells["地址"].data_type == "s"
    assert cells["证件类型"].value == "居民身份证"


def test_csv_row_numbers_are_the_file_lines_where_records_start(tmp_path: Path) -> None:
    from crm_tui.domain.data_io.readers import open_table

    good = list(rows(3))
    address = HEADERS_ZH.index("地址")
    good[0][address] = "北京市朝阳区\n建国路88号\n3单元"  # spans lines 2-4
    path = write_csv(tmp_path / "multi.csv", good)
    numbers = [n for n, _ in open_table(path).rows()]
    assert numbers == [2, 5, 6]
    assert path.read_text(encoding="utf-8").splitlines()[4].startswith(good[1][0])

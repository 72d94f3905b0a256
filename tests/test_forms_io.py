"""Custom fields in files: imported by key or by either label as the header, validated like
the form (row errors), exported with the built-in columns (retired ones too, sensitive
ones masked, XLSX typed)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from crm_tui.domain.customers.custom_values import custom_values
from crm_tui.domain.data_io.exporter import export_customers
from crm_tui.domain.data_io.importer import ImportOptions, import_customers
from crm_tui.domain.forms import definitions as D
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.store.models import Customer
from tests.customer_files import HEADERS_EN, HEADERS_ZH, rows, write_csv, write_xlsx

ADMIN = system_actor("test")


def _define(crm) -> None:
    D.add_field(crm, ADMIN, "customer", "wechat_id", label_zh="微信号", label_en="WeChat ID",
                pattern=r"[A-Za-z][-_A-Za-z0-9]{5,19}")
    D.add_field(crm, ADMIN, "customer", "campaign", type="choice", label_zh="来源活动",
                label_en="Source campaign", choices=["春季理财节", "代发工资"])
    D.add_field(crm, ADMIN, "customer", "budget", type="decimal", label_zh="预算",
                label_en="Budget", min_value="0")
    D.add_field(crm, ADMIN, "customer", "met_on", type="date", label_zh="初识日期",
                label_en="Met on")
    D.add_field(crm, ADMIN, "customer", "passport_no", label_zh="护照号", label_en="Passport",
                sensitive=True)


@pytest.mark.parametrize("headers, kind", [
    (HEADERS_ZH + ["微信号", "来源活动", "预算", "初识日期", "护照号"], "csv"),
    (HEADERS_EN + ["WeChat ID", "Source campaign", "budget", "Met on", "passport_no"], "xlsx"),
])
def test_import_with_custom_headers_in_both_languages(crm, world, tmp_path: Path, headers,
                                                      kind) -> None:
    _define(crm)
    body = [r + extra for r, extra in zip(rows(3), [
        ["zhang_san88", "春季理财节", "1200.50", "2025-03-08", "E12345678"],
        ["1bad", "双十一", "-5", "2025-02-30", ""],
        ["", "", "", "", ""],
    ], strict=True)]
    path = tmp_path / f"in.{kind}"
    (write_csv if kind == "csv" else write_xlsx)(path, body, headers=headers)
    report = import_customers(crm, ADMIN, path, ImportOptions(rejects_path=tmp_path / "rej.csv"))
    assert (report.stored, report.rejected) == (2, 1)
    with open(tmp_path / "rej.csv", encoding="utf-8-sig") as fh:
        reasons = list(csv.reader(fh))[1][-1]
    for label in ("WeChat ID", "Source campaign", "Budget", "Met on"):  # the suite runs in English
        assert f"row 3: {label}:" in reasons
    with crm.db.read() as s:
        stored = [c.custom for c in s.scalars(select(Customer).order_by(Customer.id))]
    assert stored[0]["wechat_id"] == "zhang_san88" and stored[0]["budget"] == "1200.50"
    assert stored[0]["met_on"] == "2025-03-08" and stored[0]["campaign"] == "春季理财节"
    assert "E12345678" not in str(stored[0]) and stored[0]["passport_no"]
    assert stored[1] == {}


def test_export_carries_custom_columns_retired_and_masked(crm, world, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    _define(crm)
    path = tmp_path / "in.csv"
    write_csv(path, [r + ["zhang_san88", "代发工资", "1200.50", "2025-03-08", "E12345678"]
                     for r in rows(1)],
              headers=HEADERS_ZH + ["微信号", "来源活动", "预算", "初识日期", "护照号"])
    assert import_customers(crm, ADMIN, path).stored == 1
    D.retire_field(crm, ADMIN, "customer", "campaign")
    out = export_customers(crm, ADMIN, tmp_path / "out.xlsx", "xlsx")
    ws = load_workbook(out.path, read_only=True).active
    header, first = [list(r) for r in ws.iter_rows(min_row=1, max_row=2, values_only=True)]
    cells = dict(zip(header, first, strict=True))
    assert cells["WeChat ID"] == "zhang_san88"  # headers in the operator's language
    assert cells["Source campaign"] == "代发工资"  # retired, still exported
    assert cells["Budget"] == 1200.5  # a number cell, not text
    assert cells["Met on"].date() == date(2025, 3, 8)
    assert cells["Passport"] == "E*******8"
    with crm.db.read() as s:
        cid = s.scalar(select(Customer.id))
    # the form no longer offers the retired field, the value stays
    assert "campaign" not in {v.key for v in custom_values(crm, world["bh1"], cid)}

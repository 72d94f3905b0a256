"""The warnings' files and the `crm warnings` / `crm kpi --field` contract: the export's
rules (masked, defused, 0600, audited, access-logged, never over the database), XLSX types
read back with openpyxl, `--json` keys, `--tasks` twice, one-line errors."""

from __future__ import annotations

import csv
import json
import stat
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from crm_tui.domain.kernel.safe_files import UnsafeOutput
from crm_tui.domain.reporting.warning_export import export_warnings
from crm_tui.store.models import AuditEvent, Customer
from crm_tui.store.models_privacy import AccessLog
from tests.cli_support import add_org, crm_cli, init_db, open_db
from tests.helpers import make_customer
from tests.warnings_world import AS_OF, build

SH = ZoneInfo("Asia/Shanghai")


def test_export_is_masked_defused_private_and_logged(sqlite_crm, sqlite_world, tmp_path) -> None:
    crm, world = sqlite_crm, sqlite_world
    ids = build(crm, world)
    with crm.db.write() as s:  # a name a spreadsheet would run as a formula
        s.execute(update(Customer).where(Customer.id == ids["C"]).values(name="=HYPERLINK(1)"))
    out = tmp_path / "churn.csv"
    done = export_warnings(crm, world["bh1"], "churn", out, as_of=AS_OF)
    assert done.rows == 4 and stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][:6] == ["Customer no.", "Customer", "Mobile (masked)", "RM", "AUM", "Score"]
    assert [r[1] for r in rows[1:]] == ["客户A", "客户D", "'=HYPERLINK(1)", "客户I"]
    assert all("****" in r[2] and len(r[2]) == 11 for r in rows[1:])  # 139****1234
    assert rows[1][5] == "80" and rows[1][6] == "35 · net outflow 33% (300000.00)"
    assert rows[1][8] == "0 · 0 open"
    with crm.db.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "warning.export")).one()
        log = s.scalars(select(AccessLog).order_by(AccessLog.id.desc())).first()
    assert json.loads(event.after)["count"] == 4
    assert (log.action, log.count, log.staff_name) == ("export", 4, "bh1")
    with pytest.raises(UnsafeOutput):  # never over the live database
        export_warnings(crm, world["bh1"], "churn", Path(crm.db.url.removeprefix("sqlite:///")),
                        "csv", as_of=AS_OF)


def test_xlsx_cells_are_typed(sqlite_crm, sqlite_world, tmp_path) -> None:
    from decimal import Decimal

    from openpyxl import load_workbook

    build(sqlite_crm, sqlite_world)
    out = tmp_path / "cross.xlsx"
    export_warnings(sqlite_crm, sqlite_world["bh1"], "cross_sell", out, as_of=AS_OF)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    ws = load_workbook(out).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("Customer no.", "Customer", "Mobile (masked)", "RM", "AUM", "Holds only")
    assert rows[1][1] == "客户B" and Decimal(str(rows[1][4])) == Decimal("1000000")
    assert isinstance(rows[1][4], int | float) and rows[1][5] == "Fund"
    assert ws.cell(row=2, column=5).number_format == "#,##0.00"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """rm1 (BJ01) with 钱明 (an open complaint, never contacted: score 40) and 孙红 (one
    deposit: a cross-sell candidate); rm2 (SH01) with nobody."""
    from crm_tui.domain.admin.auth import actor_of
    from crm_tui.store.models import Holding, Product, Staff
    from crm_tui.store.models_service import Ticket

    path = init_db(tmp_path / "crm.db")
    add_org(path)
    crm = open_db(path)
    try:
        with crm.db.read() as s:
            rm1 = actor_of(s.scalars(select(Staff).where(Staff.username == "rm1")).one())
        qian = make_customer(crm, rm1, "钱明")
        sun = make_customer(crm, rm1, "孙红")
        at = datetime(2026, 9, 1, 12, tzinfo=SH)
        with crm.db.write() as s:
            s.execute(update(Customer).values(created_at=datetime(2025, 1, 1, tzinfo=SH)))
            s.add(Ticket(customer_id=qian, type="complaint", priority="high", state="new",
                         queue="complaints", subject="投诉", created_at=at, first_response_due=at,
                         resolution_due=at))
            deposit = Product(code="D1", name="大额存单", category="deposit", risk_level="R1")
            s.add(deposit)
            s.flush()
            s.add(Holding(customer_id=sun, product_id=deposit.id, amount_fen=100))
    finally:
        crm.db.dispose()
    return path


def test_crm_warnings_json_export_and_tasks(db: Path, tmp_path: Path) -> None:
    r = crm_cli("warnings", "churn", "--json", "--as-of", "2026-10-01", "--db", str(db))
    assert r.code == 0, r.err
    body = json.loads(r.out)
    assert set(body) == {"list", "as_of", "rows", "rules"}
    assert body["rules"]["weights"] == {"aum_decline": 35, "activity_drop": 25,
                                        "open_complaints": 20, "no_contact": 20}
    [row] = body["rows"]
    assert (row["customer"], row["rm"], row["score"]) == ("钱明", "rm1", 40)
    assert [(f["factor"], f["points"]) for f in row["factors"]] == [
        ("aum_decline", 0), ("activity_drop", 0), ("open_complaints", 20), ("no_contact", 20)]
    r = crm_cli("warnings", "cross-sell", "--json", "--db", str(db))
    assert [(x["customer"], x["category"]) for x in json.loads(r.out)["rows"]] == [("孙红", "deposit")]
    r = crm_cli("warnings", "churn", "--as-of", "2026-10-01", "--db", str(db))
    assert r.code == 0 and " 40  钱明" in r.out and "20 · 1 open" in r.out
    out = tmp_path / "churn.xlsx"
    r = crm_cli("warnings", "churn", "--export", str(out), "--db", str(db))
    assert r.code == 0 and "1 rows written" in r.out and stat.S_IMODE(out.stat().st_mode) == 0o600
    first = crm_cli("warnings", "churn", "--tasks", "--json", "--as-of", "2026-10-01", "--db", str(db))
    again = crm_cli("warnings", "churn", "--tasks", "--json", "--as-of", "2026-10-01", "--db", str(db))
    assert json.loads(first.out) == {"created": 1, "existing": 0, "without_rm": 0}
    assert json.loads(again.out) == {"created": 0, "existing": 1, "without_rm": 0}
    r = crm_cli("tasks", "list", "--user", "rm1", "--json", "--db", str(db))
    assert r.code == 0 and len(json.loads(r.out)) == 1


@pytest.mark.parametrize("args, says", [
    (("warnings", "churn", "--as-of", "2026-13-40"), "2026-13-40"),
    (("warnings", "churn", "--export", "/no/such/dir/x.csv"), "/no/such/dir"),
    (("warnings", "churn", "--export", "x.pdf"), "pdf"),
    (("warnings", "churn", "--branch", "XX99"), "XX99"),
    (("kpi", "--field", "nokey"), "KEY=VALUE"),
    (("kpi", "--field", "segment=vip"), "segment"),
])
def test_bad_input_is_one_line(db: Path, args: tuple[str, ...], says: str) -> None:
    r = crm_cli(*args, "--db", str(db))
    assert r.code != 0 and "Traceback" not in r.err, r.err
    assert len(r.err.strip().splitlines()) == 1 and says in r.err


def test_kpi_filter_by_a_filterable_custom_field(db: Path) -> None:
    from crm_tui.domain.forms.definitions import add_field
    from crm_tui.domain.kernel.actor import system_actor

    crm = open_db(db)
    try:
        add_field(crm, system_actor("test"), "customer", "segment", type="choice",
                  label_zh="客群", label_en="Segment", choices=["vip", "mass"], filterable=True)
        with crm.db.write() as s:
            s.execute(update(Customer).where(Customer.name == "钱明")
                      .values(custom={"segment": "vip"}, aum_fen=500_000))
            s.execute(update(Customer).where(Customer.name == "孙红").values(aum_fen=100_000))
    finally:
        crm.db.dispose()
    r = crm_cli("kpi", "--json", "--field", "segment=vip", "--db", str(db))
    assert r.code == 0, r.err
    k = json.loads(r.out)
    assert k["sales"]["aum_per_customer"] == "5000.00" and k["scope"]["fields"] == {"segment": "vip"}
    assert json.loads(crm_cli("kpi", "--json", "--db", str(db)).out)["sales"]["aum_per_customer"] == "3000.00"
    bad = crm_cli("kpi", "--field", "segment=gold", "--db", str(db))
    assert bad.code != 0 and "gold" in bad.err

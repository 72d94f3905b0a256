"""`crm export leads|opportunities|tickets`: built-in columns labelled, every custom field
by its label (retired ones too), sensitive values masked, the exporter's scope, 0600,
audited with the row count; refused without the export permission."""

from __future__ import annotations

import csv
import json
import stat
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from crm_tui.domain.data_io import export_file
from crm_tui.domain.data_io.record_export import export_records
from crm_tui.domain.forms import definitions as D
from crm_tui.domain.forms.values import stored_for_new
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.kernel.errors import PermissionDenied
from crm_tui.domain.sales import leads, opportunities
from crm_tui.domain.service import tickets
from crm_tui.store.models import AuditEvent
from crm_tui.store.models_sales import Opportunity
from tests.cli_support import STAFF_PASSWORD, add_org, add_user_approved, crm_cli, init_db, open_db
from tests.helpers import make_customer

ADMIN = system_actor("test")
ENTITIES = ("lead", "opportunity", "ticket")
WECHAT = "wx_secret_8841"
PHONES = {"BJ": "13912345678", "SH": "13987654321"}


def _fields(crm, entity: str) -> None:
    D.add_field(crm, ADMIN, entity, "campaign", label_zh="活动代码", label_en="Campaign code")
    D.add_field(crm, ADMIN, entity, "wechat", label_zh="微信号", label_en="WeChat ID",
                sensitive=True)
    D.add_field(crm, ADMIN, entity, "old_ref", label_zh="旧编号", label_en="Old ref")
    D.add_field(crm, ADMIN, entity, "unused", label_zh="未用字段", label_en="Unused")


def _custom(tag: str) -> dict[str, str]:
    return {"campaign": f"=CMD-{tag}", "wechat": f"{WECHAT}{tag}", "old_ref": f"R-{tag}"}


def _records(crm, world) -> dict[str, dict[str, int]]:
    """One record of each entity in BJ01 (bh1's branch) and one in SH01, custom values set."""
    for entity in ENTITIES:
        _fields(crm, entity)
    out: dict[str, dict[str, int]] = {e: {} for e in ENTITIES}
    for tag, rm, worker, branch in (("BJ", world["rm1"], world["svc1"], "BJ01"),
                                    ("SH", world["rm_sh"], world["rm_sh"], "SH01")):
        cid = make_customer(crm, rm, f"客户{tag}")
        out["lead"][tag] = leads.create_lead(crm, rm, {
            "name": f"线索{tag}", "source": "web", "branch_code": branch,
            "phone": PHONES[tag], "custom": _custom(tag)})
        oid = opportunities.create_opportunity(crm, rm, cid)
        with crm.db.write() as s:
            s.execute(update(Opportunity).where(Opportunity.id == oid).values(
                custom=stored_for_new(crm, "opportunity", _custom(tag))))
        out["opportunity"][tag] = oid
        out["ticket"][tag] = tickets.create_ticket(crm, worker, cid, {
            "type": "inquiry", "subject": f"咨询{tag}", "custom": _custom(tag)})
    for entity in ENTITIES:  # retired after the values were stored: still exported
        D.retire_field(crm, ADMIN, entity, "old_ref")
        D.retire_field(crm, ADMIN, entity, "unused")  # retired, never held a value
    return out


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


@pytest.mark.parametrize("entity", ENTITIES)
def test_export_carries_custom_values_masked_and_scoped(crm, world, tmp_path, entity) -> None:
    ids = _records(crm, world)
    out = tmp_path / f"{entity}.csv"
    report = export_records(crm, world["bh1"], entity, out, "csv")
    assert report.rows == 1  # bh1's branch only
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    header, body = _read(out)
    row = dict(zip(header, body[0], strict=True))
    assert int(next(v for h, v in row.items() if h.endswith("no.") and "Customer" not in h)) \
        == ids[entity]["BJ"]
    assert row["Campaign code"] == "'=CMD-BJ"  # by its label, defused
    assert row["Old ref"] == "R-BJ"  # a retired field's value is still exported
    assert "Unused" not in header  # a retired field nobody holds a value for is no column
    assert row["WeChat ID"].startswith("w") and "*" in row["WeChat ID"]
    text = out.read_text(encoding="utf-8-sig")
    assert WECHAT not in text  # the sensitive value's plaintext is nowhere in the file
    assert "CMD-SH" not in text and "R-SH" not in text  # nothing of the other branch
    if entity == "lead":  # the lead's own phone, masked by the policy as a customer's
        assert row["Mobile"] == "139****5678" and PHONES["BJ"] not in text
    with crm.db.read() as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == f"{entity}.export")).one()
    assert ev.actor_name == "bh1"
    assert json.loads(ev.after)["count"] == 1

    sh = tmp_path / f"{entity}-sh.xlsx"
    assert export_records(crm, world["bh_sh"], entity, sh, "xlsx").rows == 1
    ws = load_workbook(sh).active
    cells = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    assert "R-SH" in cells and "Old ref" in cells and not any("BJ" in c for c in cells)
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_export_refusals_and_the_admin_view(crm, world, tmp_path, monkeypatch) -> None:
    _records(crm, world)
    monkeypatch.setattr(export_file, "PAGE_ROWS", 1)  # keyset pages of one: every row still
    for entity in ENTITIES:
        with pytest.raises(PermissionDenied):
            export_records(crm, world["rm1"], entity, tmp_path / "rm.csv", "csv")
        assert not (tmp_path / "rm.csv").exists()
        # admin: every branch, but no personal, free-text or custom column
        out = tmp_path / f"admin-{entity}.csv"
        assert export_records(crm, ADMIN, entity, out, "csv").rows == 2
        header, _ = _read(out)
        assert not {"Name", "Customer name", "Mobile", "National ID", "Note", "Description",
                    "Campaign code", "WeChat ID"} & set(header)
        assert "线索" not in out.read_text(encoding="utf-8-sig")


@pytest.fixture
def cli_db(tmp_path: Path) -> Path:
    db = init_db(tmp_path / "crm.db")
    add_org(db)
    crm = open_db(db)
    try:
        add_user_approved(crm, "bh1", "刘洋", "branch_head", STAFF_PASSWORD, "BJ01")
        from crm_tui.domain.admin.auth import login

        rm1 = login(crm, "rm1", STAFF_PASSWORD)
        _fields(crm, "ticket")
        _fields(crm, "lead")
        cid = make_customer(crm, rm1, "客户甲")
        leads.create_lead(crm, rm1, {"name": "线索甲", "source": "web", "custom": _custom("A")})
        tickets.create_ticket(crm, rm1, cid, {"type": "inquiry", "subject": "咨询",
                                              "custom": _custom("A")})
    finally:
        crm.db.dispose()
    return db


def test_cli_exports_and_refuses(cli_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "tickets.xlsx"  # the format follows the suffix
    r = crm_cli("export", "tickets", "--out", str(out), "--as", "bh1", "--db", str(cli_db),
                input=STAFF_PASSWORD + "\n")
    assert r.code == 0, r.err
    assert "exported 1 tickets" in r.out
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    cells = [c for row in load_workbook(out).active.iter_rows(values_only=True) for c in row]
    assert "Campaign code" in cells and "'=CMD-A" in cells
    r = crm_cli("export", "leads", "--format", "csv", "--out", str(tmp_path / "l.csv"),
                "--as", "bh1", "--db", str(cli_db), input=STAFF_PASSWORD + "\n")
    assert r.code == 0 and "exported 1 leads" in r.out
    r = crm_cli("export", "opportunities", "--out", str(tmp_path / "o.csv"), "--as", "rm1",
                "--db", str(cli_db), input=STAFF_PASSWORD + "\n")
    assert r.code == 1 and len(r.err.strip().splitlines()) == 1
    assert not (tmp_path / "o.csv").exists()
    r = crm_cli("export", "leads", "--out", str(cli_db), "--db", str(cli_db))
    assert r.code == 1 and len(r.err.strip().splitlines()) == 1  # never the live database

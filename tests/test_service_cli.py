"""`crm import tickets`, `crm tickets list --json`, `crm outbox list`, `crm tasks list`."""

from __future__ import annotations

import json
import stat
from datetime import datetime
from pathlib import Path

import pytest

from crm_tui.domain.kernel.actor import system_actor
from tests.cli_support import add_org, crm_cli, init_db, open_db
from tests.helpers import make_customer, new_id

JSON_KEYS = {"id", "type", "priority", "state", "queue", "assignee", "customer_id", "created_at",
             "first_response_due", "resolution_due", "first_response_at", "resolved_at",
             "breached", "csat", "first_contact_resolution"}


@pytest.fixture
def db(tmp_path: Path) -> tuple[Path, str, str]:
    path = init_db(tmp_path / "crm.db")
    add_org(path)
    crm = open_db(path)
    try:
        from sqlalchemy import select

        from crm_tui.domain.kernel.actor import Actor
        from crm_tui.store.models import Staff

        with crm.db.read() as s:
            st = s.scalars(select(Staff).where(Staff.username == "rm1")).one()
            rm1 = Actor(st.id, st.username, st.display_name, st.role, st.branch_id, st.team_id)
        nid = new_id("19790315")
        make_customer(crm, rm1, "高建军", national_id=nid, phone="13911112222")
    finally:
        crm.db.dispose()
    return path, nid, "13911112222"


def test_import_list_and_rejects(db: tuple[Path, str, str], tmp_path: Path) -> None:
    path, nid, phone = db
    src = tmp_path / "calls.csv"
    src.write_text("证件号码,手机号,工单类型,紧急程度,主题,受理时间\n"
                   f"{nid},,咨询,普通,大额存单利率咨询,2026-12-04 16:00\n"
                   f",{phone},投诉,高,柜面等候时间过长,2026-12-01T10:00+08:00\n"
                   f"110105199001011234,,咨询,,查无此人,\n"
                   f"{nid},,传闻,紧急,,2026-13-01\n", encoding="gbk")
    r = crm_cli("import", "tickets", str(src), "--db", str(path))
    assert r.code == 1
    assert "2 tickets stored, 2 rejected" in r.out
    assert "row 4: National ID" in r.err and "row 5: Type" in r.err
    rejects = tmp_path / "calls.csv.rejects.csv"
    assert stat.S_IMODE(rejects.stat().st_mode) == 0o600
    assert len(rejects.read_text(encoding="utf-8-sig").splitlines()) == 3
    r = crm_cli("tickets", "list", "--json", "--db", str(path))
    assert r.code == 0, r.err
    rows = json.loads(r.out)
    assert len(rows) == 2 and all(JSON_KEYS <= set(row) for row in rows)
    complaint = next(x for x in rows if x["type"] == "complaint")
    assert complaint["queue"] == "complaints" and complaint["created_at"] == "2026-12-01T02:00:00+00:00"
    inquiry = next(x for x in rows if x["type"] == "inquiry")
    assert datetime.fromisoformat(inquiry["first_response_due"]).utcoffset() is not None
    assert inquiry["first_response_due"] == "2026-12-07T04:00:00+00:00"  # Fri 16:00 + 4h → Mon 12:00
    only = json.loads(crm_cli("tickets", "list", "--queue", "complaints", "--json", "--db",
                              str(path)).out)
    assert [x["type"] for x in only] == ["complaint"]
    bad = crm_cli("tickets", "list", "--state", "lost", "--db", str(path))
    assert bad.code != 0 and "lost" in bad.err and "Traceback" not in bad.err
    assert "高建军" in crm_cli("tickets", "list", "--db", str(path)).out


def test_outbox_and_tasks(db: tuple[Path, str, str]) -> None:
    path, _nid, _phone = db
    assert crm_cli("outbox", "list", "--json", "--db", str(path)).out.strip() == "[]"
    r = crm_cli("jobs", "run", "--now", "2026-12-01T09:00+08:00", "--db", str(path))
    assert r.code == 0, r.err
    tasks = json.loads(crm_cli("tasks", "list", "--user", "rm1", "--json", "--db", str(path)).out)
    assert [x["kind"] for x in tasks] == ["review"]
    assert tasks[0]["title"].endswith("高建军")
    missing = crm_cli("tasks", "list", "--user", "nobody", "--db", str(path))
    assert missing.code != 0 and "nobody" in missing.err
    _ = system_actor

"""`crm privacy requests|copy|retention` and `crm audit access`."""

from __future__ import annotations

import json
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from crm_tui.domain.admin.auth import login
from crm_tui.domain.customers.profile import get_profile
from crm_tui.domain.privacy import requests
from crm_tui.store.types import utcnow
from tests.cli_support import STAFF_PASSWORD, add_org, copy_db, crm_cli, init_db, open_db
from tests.privacy_support import full_customer, product


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = init_db(tmp_path_factory.mktemp("privacy") / "crm.db")
    add_org(path)
    return path


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    return copy_db(template, tmp_path)


def _setup(db: Path) -> tuple[int, int, int]:
    crm = open_db(db)
    try:
        rm1 = login(crm, "rm1", STAFF_PASSWORD)
        pid = product(crm)
        cid = full_customer(crm, rm1, "张三丰", "CANARYA", pid, phone="13911112222")
        old = full_customer(crm, rm1, "甄士隐", "OLD", pid, phone="13955556666", held_fen=0,
                            when=utcnow() - timedelta(days=2200))
        rid = requests.open_request(crm, rm1, cid, "access", detail="客户要求查阅")
        get_profile(crm, rm1, cid)
        return cid, old, rid
    finally:
        crm.db.dispose()


def test_requests_copy_access_and_retention(db: Path, tmp_path: Path) -> None:
    cid, old, rid = _setup(db)
    listed = crm_cli("privacy", "requests", "--state", "open", "--json", "--db", str(db))
    assert listed.code == 0, listed.err
    rows = json.loads(listed.out)
    assert [(r["id"], r["customer_id"], r["kind"], r["state"]) for r in rows] == [
        (rid, cid, "access", "open")]
    assert {"due_at", "owner", "outcome", "refusal_reason", "overdue"} <= set(rows[0])
    bad = crm_cli("privacy", "requests", "--state", "nope", "--db", str(db))
    assert bad.code != 0 and "nope" in bad.err
    table = crm_cli("privacy", "requests", "--db", str(db))
    assert table.code == 0 and "Access and copy" in table.out

    out = tmp_path / "copy.json"
    refused = crm_cli("privacy", "copy", str(cid), "--out", str(out), "--as", "rm1",
                      "--password-stdin", "--format", "json", "--db", str(db),
                      input=STAFF_PASSWORD + "\n")
    assert refused.code == 1 and not out.exists()
    made = crm_cli("privacy", "copy", str(cid), "--out", str(out), "--as", "comp1",
                   "--password-stdin", "--format", "json", "--request", str(rid),
                   "--db", str(db), input=STAFF_PASSWORD + "\n")
    assert made.code == 0, made.err
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and "CANARYA-summary" in out.read_text()

    access = crm_cli("audit", "access", "--customer", str(cid), "--json", "--db", str(db))
    assert access.code == 0, access.err
    entries = json.loads(access.out)
    # (the listing above showed no names, so it is not an access)
    assert [e["action"] for e in entries] == ["copy", "profile"]
    assert entries[-1]["staff"] == "rm1"
    by_staff = crm_cli("audit", "access", "--staff", "comp1", "--since", "2000-01-01",
                       "--db", str(db))
    assert by_staff.code == 0 and "Access-and-copy file" in by_staff.out
    both = crm_cli("audit", "access", "--db", str(db))
    assert both.code != 0 and "--customer" in both.err

    dry = crm_cli("privacy", "retention", "--dry-run", "--json", "--db", str(db))
    assert dry.code == 0, dry.err
    assert {(i["customer_id"], i["category"]) for i in json.loads(dry.out)} == {
        (old, c) for c in ("profile", "kyc", "transactions", "interactions")}
    opened = crm_cli("privacy", "retention", "--json", "--db", str(db))
    assert json.loads(opened.out)["items"] == 4
    again = crm_cli("privacy", "retention", "--db", str(db))
    assert again.code == 0 and "No new anonymisation batch" in again.out

"""Workers seal their rows under ids planned from the row's place in the file; the storing
process inserts with those ids only while nobody else has taken one, and every seal holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crm_tui.domain.admin.auth import login
from crm_tui.domain.customers.records import create_customer
from crm_tui.domain.customers.search import search_customers
from crm_tui.domain.data_io import importer
from crm_tui.domain.data_io.customer_store import ChunkWriter
from crm_tui.domain.data_io.importer import ImportOptions, import_customers
from crm_tui.domain.kernel.actor import system_actor
from tests.cli_support import STAFF_PASSWORD, add_org, copy_db, crm_cli, init_db, open_db, sql
from tests.customer_files import national_id, rows, write_csv


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = init_db(tmp_path_factory.mktemp("planned") / "crm.db")
    add_org(path)
    return path


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    return copy_db(template, tmp_path)


@pytest.fixture
def pool_first(monkeypatch: pytest.MonkeyPatch) -> list[ChunkWriter]:
    """The pool is up before the second chunk (as on a large file), and the writers used."""
    ready = importer._StartingPool.ready

    def wait_then_ready(self: Any) -> Any:
        self._thread.join()
        return ready(self)

    monkeypatch.setattr(importer._StartingPool, "ready", wait_then_ready)
    writers: list[ChunkWriter] = []
    init = ChunkWriter.__init__

    def keep(self: ChunkWriter, *args: Any) -> None:
        init(self, *args)
        writers.append(self)

    monkeypatch.setattr(ChunkWriter, "__init__", keep)
    return writers


def _import(db: Path, file: Path) -> Any:
    crm = open_db(db)
    try:
        return import_customers(crm, system_actor(), file, ImportOptions(workers=2, chunk_rows=300))
    finally:
        crm.db.dispose()


def test_planned_ids_leave_gaps_for_rejected_rows_and_every_seal_holds(
        db: Path, tmp_path: Path, pool_first: list[ChunkWriter]) -> None:
    body = list(rows(1500))
    body[700][2] = "1234"  # rejected: its planned id stays unused
    report = _import(db, write_csv(tmp_path / "gaps.csv", body))
    assert (report.stored, report.rejected) == (1499, 1)
    writer = pool_first[-1]
    assert writer.planned_chunks == 4 and writer.resealed_chunks == 0
    ids = [r[0] for r in sql(db, "SELECT id FROM customer ORDER BY id")]
    gaps = [b for a, b in zip(ids, ids[1:], strict=False) if b != a + 1]
    assert len(gaps) == 1  # the rejected row's id
    assert sql(db, "SELECT count(*) FROM row_seal WHERE entity = 'customer'") == [(1499,)]
    verify = crm_cli("audit", "verify", "--data", "--db", str(db))
    assert verify.code == 0, verify.out + verify.err


def test_a_customer_created_during_the_import_breaks_the_plan_not_the_seals(
        db: Path, tmp_path: Path, pool_first: list[ChunkWriter],
        monkeypatch: pytest.MonkeyPatch) -> None:
    store = ChunkWriter.store
    calls = []

    def meanwhile(self: ChunkWriter, *args: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:  # a branch user adds a customer between two chunks
            crm = open_db(db)
            try:
                create_customer(crm, login(crm, "rm1", STAFF_PASSWORD), {
                    "name": "柜面新客", "id_type": "resident_id",
                    "national_id": national_id(999, birth="19700101")})
            finally:
                crm.db.dispose()
        return store(self, *args)

    monkeypatch.setattr(ChunkWriter, "store", meanwhile)
    report = _import(db, write_csv(tmp_path / "busy.csv", rows(1500)))
    assert report.stored == 1500
    writer = pool_first[-1]
    assert writer.plan_broken
    assert sql(db, "SELECT count(*) FROM customer") == [(1501,)]
    assert sql(db, "SELECT count(*) FROM (SELECT id FROM customer GROUP BY id HAVING count(*) > 1)") == [(0,)]
    verify = crm_cli("audit", "verify", "--data", "--db", str(db))
    assert verify.code == 0, verify.out + verify.err


def test_an_unfinished_key_rotation_stops_the_import_and_a_duplicate_customer(
        db: Path, tmp_path: Path) -> None:
    """Mid-rotation some IDs are indexed under the old key: an import would not recognise
    them and store those customers twice, so it waits until the rotation is finished; a
    new customer is checked against every key's index."""
    from crm_tui.domain.kernel.errors import ValidationFailed
    from crm_tui.store.crypto import Keyring, write_key_file
    from tests.cli_support import key_path

    file = write_csv(tmp_path / "few.csv", rows(3))
    assert crm_cli("import", "customers", str(file), "--db", str(db)).code == 0
    crm = open_db(db)
    try:
        ring = crm.keys
        fresh = Keyring.generate()
        write_key_file(key_path(db), ring.with_keys({**ring.keys, **fresh.keys}, fresh.active))
    finally:
        crm.db.dispose()
    again = crm_cli("import", "customers", str(file), "--db", str(db))
    assert again.code != 0 and "crm keys rotate" in again.err
    assert sql(db, "SELECT count(*) FROM customer") == [(3,)]
    crm = open_db(db)
    try:
        rm1 = login(crm, "rm1", STAFF_PASSWORD)
        with pytest.raises(ValidationFailed):  # stored under the old key, found all the same
            create_customer(crm, rm1, {
                "name": "重复客户", "id_type": "resident_id", "national_id": national_id(0)})
        assert len(search_customers(crm, rm1, national_id(0))) == 1  # and found by search
    finally:
        crm.db.dispose()
    assert crm_cli("keys", "rotate", "--db", str(db)).code == 0
    assert crm_cli("import", "customers", str(file), "--db", str(db)).code == 0
    assert sql(db, "SELECT count(*) FROM customer") == [(3,)]

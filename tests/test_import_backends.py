"""The importer, exporter and key rotation on both stores (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from crm_tui.domain.admin.keys import rotate_keys
from crm_tui.domain.data_io.exporter import export_customers
from crm_tui.domain.data_io.importer import ImportOptions, import_customers
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.store.crypto import write_key_file
from crm_tui.store.models import AuditEvent, Customer, CustomerTag
from tests.customer_files import HEADERS_ZH, rows, write_csv


def _count(crm, model) -> int:  # type: ignore[no-untyped-def]
    with crm.db.read() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_import_export_rotate(crm, world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    body = list(rows(30))
    body[0][9] = "9,000,000.00"  # 高净值
    body[5][2] = body[4][2]  # duplicate inside the file
    file = write_csv(tmp_path / "in.csv", body)
    admin = system_actor()
    report = import_customers(crm, admin, file, ImportOptions(chunk_rows=8))
    assert (report.stored, report.rejected, report.chunks) == (29, 1, 4)
    assert _count(crm, Customer) == 29
    assert _count(crm, CustomerTag) >= 1
    again = import_customers(crm, admin, file, ImportOptions(chunk_rows=8))
    assert (again.stored, again.already_imported, again.rejected) == (0, 29, 1)
    assert _count(crm, Customer) == 29
    with crm.db.read() as s:
        events = s.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "customer.import"))
    assert events == 8

    exported = export_customers(crm, admin, tmp_path / "out.csv", "csv")
    assert exported.rows == 29

    write_key_file(crm.key_file, crm.keys)
    old = crm.keys.active
    result = rotate_keys(crm, admin, batch=7)
    assert result.rows == 29 and result.retired_keys == (old,)
    with crm.db.read() as s:
        tokens = s.execute(select(Customer.national_id_enc, Customer.national_id_bidx)).all()
    assert all(tok.startswith(crm.keys.active + "$") for tok, _ in tokens)
    wanted = {crm.keys.blind_index("national_id", r[2]) for i, r in enumerate(body) if i != 5}
    assert {b for _, b in tokens} == wanted


def test_imported_rows_are_sealed_without_reading_them_back(crm, world, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                              monkeypatch) -> None:
    """The import seals each chunk from the members its workers prepared; the seals equal
    what `crm audit verify --data` computes from the stored rows, with custom fields too."""
    from crm_tui.domain.data_io import customer_store
    from crm_tui.domain.kernel import seals
    from tests.privacy_support import wechat_field

    wechat_field(crm, world["admin"])
    body = [[*r, f"wx-{i}"] for i, r in enumerate(rows(25))]
    body[3][-1] = ""
    file = write_csv(tmp_path / "in.csv", body, headers=[*HEADERS_ZH, "微信号"])
    fallbacks: list[int] = []
    real = seals.seal_now
    monkeypatch.setattr(customer_store.seals, "seal_now",
                        lambda *a, **k: fallbacks.append(1) or real(*a, **k))
    report = import_customers(crm, system_actor(), file, ImportOptions(chunk_rows=10))
    assert (report.stored, report.rejected) == (25, 0)
    assert fallbacks == []  # every chunk's shortcut agreed with the database
    assert list(seals.check_data(crm.db, crm.db.audit_key)) == []
    with crm.db.write() as s:  # and a row changed outside the product is still named
        s.execute(Customer.__table__.update().where(Customer.id == 7).values(aum_fen=1))  # type: ignore[attr-defined]
    assert [(f.entity, f.row_id, f.problem) for f in seals.check_data(crm.db, crm.db.audit_key)
            ] == [("customer", 7, "changed")]

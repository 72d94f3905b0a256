"""`crm import tickets FILE`: the call centre's tickets (CSV/XLSX), each matched to its
customer by national ID or phone (blind index), routed and given SLA deadlines as if
created at the file's optional `created_at`. Like `crm import customers`: every bad row is
named (row and field) and copied to a 0600 rejects file, good rows are stored in whole
chunks (ticket rows + one audit event per chunk), and the command exits non-zero when any
row was rejected."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from crm_tui.domain.customers.fields import stored_index_matches
from crm_tui.domain.data_io.import_outcome import ImportReport, Outcome, running
from crm_tui.domain.data_io.readers import ImportFileError, RowProblem, open_table
from crm_tui.domain.forms.files import custom_cells, custom_headers
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, catalog_labels
from crm_tui.domain.kernel.fields import header_map, normalise_header
from crm_tui.domain.kernel.permissions import Perm, customer_scope, require
from crm_tui.domain.kernel.validation import BadValue, normalise_text, parse_mobile
from crm_tui.domain.service.ticket_fields import clean_ticket
from crm_tui.domain.service.tickets import new_ticket_row, open_complaint
from crm_tui.store.models import Customer
from crm_tui.store.types import utcnow

CHUNK = 500
ENTITY = "ticket_import"


def _labels(key: str) -> list[str]:
    return list(catalog_labels(key))


def ticket_headers(headers: list[str], custom: dict[str, str] | None = None) -> list[str | None]:
    """Header → ticket field; `custom` adds the custom fields (`forms.files.custom_headers`)."""
    known = {**header_map(ENTITY, _labels), **(custom or {})}
    fields: list[str | None] = []
    for col, raw in enumerate(headers, start=1):
        text = str(raw or "").strip()
        if not text:
            fields.append(None)
            continue
        field = known.get(normalise_header(text))
        if field is None:
            raise ImportFileError("import.error.unknown_header", header=text, column=col,
                                  known=", ".join(sorted(set(known.values()))))
        if field in fields:
            raise ImportFileError("import.error.duplicate_header", header=text, other=field)
        fields.append(field)
    missing = [f for f in ("type", "subject") if f not in fields]
    if not ({"national_id", "phone"} & set(fields)):
        missing.append("national_id | phone")
    if missing:
        raise ImportFileError("import.error.missing_header", fields=", ".join(missing))
    return fields


def _customer(crm: Crm, session, actor: Actor, raw: dict[str, Any], row: int  # type: ignore[no-untyped-def]
              ) -> tuple[Customer | None, FieldError | None]:
    nid = normalise_text(str(raw.get("national_id") or "")).upper()
    phone = normalise_text(str(raw.get("phone") or ""))
    if not nid and not phone:
        return None, FieldError("national_id", "service.error.import_customer_needed", {}, row)
    if nid:
        where = stored_index_matches(crm.keys, "national_id", nid)
        field = "national_id"
    else:
        try:
            phone = parse_mobile(phone)
        except BadValue as exc:
            return None, FieldError("phone", exc.key, exc.params, row)
        where = stored_index_matches(crm.keys, "phone", phone)
        field = "phone"
    found = session.scalars(select(Customer).where(where).limit(1)).first()
    if found is None:
        return None, FieldError(field, "service.error.import_customer", {}, row)
    if actor.id is not None and session.scalar(
            select(Customer.id).where(Customer.id == found.id, customer_scope(actor))) is None:
        return None, FieldError(field, "service.error.import_scope", {}, row)
    return found, None


def import_tickets(crm: Crm, actor: Actor, path: Path, *, rejects_path: Path | None = None,
                   on_error: Callable[[FieldError], None] | None = None) -> ImportReport:
    require(actor, Perm.DATA_IMPORT)
    started = time.perf_counter()
    path = Path(path)
    custom = custom_headers(crm, "ticket")
    table = open_table(path, lambda headers: ticket_headers(headers, custom))
    report = ImportReport(path.name, table.encoding)
    policy = crm.policy().service
    rows = table.rows()
    with running(crm, path, table.headers, report, rejects_path, on_error, started) as outcome:
        while True:
            chunk = [r for _, r in zip(range(CHUNK), rows, strict=False)]
            if not chunk:
                break
            _store_chunk(crm, actor, chunk, table.fields, policy, outcome, path.name)
    return report


def _store_chunk(crm: Crm, actor: Actor, chunk: list[tuple[int, list[Any]]],
                 fields: list[str | None], policy, outcome: Outcome,  # type: ignore[no-untyped-def]
                 file_name: str) -> None:
    report = outcome.report
    with crm.db.write() as session:
        stored = []
        for number, cells in chunk:
            report.rows += 1
            if isinstance(cells, RowProblem):
                outcome.reject(cells, [FieldError("", cells.key, cells.params, number)])
                continue
            raw = {f: cells[i] for i, f in enumerate(fields) if f and i < len(cells)}
            values, errors = clean_ticket(raw, row=number, entity=ENTITY)
            custom, custom_errors = custom_cells(crm, "ticket", raw, number)
            errors += custom_errors
            customer, missing = _customer(crm, session, actor, raw, number)
            if missing:
                errors.append(missing)
            if errors or customer is None:
                outcome.reject(cells, errors)
                continue
            created = values.get("created_at") or utcnow()
            ticket = new_ticket_row(session, policy, customer, values, created_by=actor.id,
                                    created_at=created)
            ticket.custom = custom
            session.add(ticket)
            session.flush()
            if ticket.type == "complaint":
                open_complaint(session, policy, ticket, actor.id)
            stored.append(ticket.id)
        if stored:
            audit.record(crm.db, session, actor, "ticket.import", "ticket", "", None,
                         {"file": file_name, "rows": f"{chunk[0][0]}-{chunk[-1][0]}",
                          "count": len(stored), "first_id": stored[0], "last_id": stored[-1]})
        report.stored += len(stored)
        report.chunks += 1

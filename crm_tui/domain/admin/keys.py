"""Encryption key rotation: a new active key, every sensitive value re-encrypted and its blind
index recomputed, then the old key dropped.

Crash safety: the key file is first rewritten holding BOTH keys (new one active), so every
value stays readable whichever key sealed it; rows are re-encrypted in batches, each batch
one transaction that rewrites a row's ciphertext and blind index together; only when no
value sealed by an old key remains is the key file rewritten without the old keys. Running
`rotate_keys` again after a crash finds the two-key file and resumes instead of starting over.

Besides the customer columns, sealed values wait inside approval requests: a sensitive
change carries the new phone, ID or account encrypted in its payload until approval applies
it. Those are re-encrypted the same way (batches, one transaction each, resumable) — pending
ones so they can still be approved once the old key is gone, closed ones so a retired (perhaps
leaked) key opens nothing still stored.

Sessions that were running during rotation hold the old key ring: restart them afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Table, bindparam, or_, select, update
from sqlmodel import Session

from crm_tui.domain.kernel import audit, safe_files, seals
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import DomainError
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.store.crypto import Keyring, write_key_file
from crm_tui.store.models import Customer, Setting
from crm_tui.store.models_compliance import ApprovalRequest


@dataclass(frozen=True)
class EncryptedTable:
    """A table holding sealed values: `fields` name the plaintext field (the AEAD associated
    data); its columns are `<field>_enc` and, when `indexed`, `<field>_bidx`."""

    table: Table
    fields: tuple[str, ...]
    indexed: tuple[str, ...]


def _sealed(table: Table) -> EncryptedTable:
    """A table's sealed fields, read from its columns (`<field>_enc`, `<field>_bidx`)."""
    names = [c.name for c in table.columns]
    fields = tuple(n[:-4] for n in names if n.endswith("_enc"))
    return EncryptedTable(table, fields, tuple(f for f in fields if f"{f}_bidx" in names))


ENCRYPTED_TABLES: list[EncryptedTable] = [_sealed(Customer.__table__)]  # type: ignore[attr-defined]


def register_encrypted_table(spec: EncryptedTable) -> None:
    """Modules that seal values in their own tables register them so rotation covers them."""
    if all(s.table.name != spec.table.name for s in ENCRYPTED_TABLES):
        ENCRYPTED_TABLES.append(spec)


class KeyRotationRefused(DomainError):
    key = "keys.error.refused"


@dataclass(frozen=True)
class RotationReport:
    new_key: str
    retired_keys: tuple[str, ...]
    rows: int
    resumed: bool


@dataclass(frozen=True)
class KeyStatus:
    active: str
    loaded: tuple[str, ...]
    values_by_key: dict[str, int]
    from_env: bool


def _stale(spec: EncryptedTable, active: str) -> list:  # type: ignore[type-arg]
    """A WHERE clause matching rows holding a value not sealed by the active key."""
    prefix = f"{active}$%"
    return [or_(*[spec.table.c[f"{f}_enc"].is_not(None) & ~spec.table.c[f"{f}_enc"].like(prefix)
                  for f in spec.fields])]


def key_status(crm: Crm, actor: Actor) -> KeyStatus:
    require(actor, Perm.BACKUP)
    counts: dict[str, int] = {}
    with crm.db.read() as session:
        for spec in ENCRYPTED_TABLES:
            for f in spec.fields:
                col = spec.table.c[f"{f}_enc"]
                last_id = 0
                while True:  # keyset pages: never the whole table in memory
                    rows = session.execute(
                        select(spec.table.c.id, col).where(spec.table.c.id > last_id, col.is_not(None))
                        .order_by(spec.table.c.id).limit(5000)
                    ).all()
                    if not rows:
                        break
                    for _, token in rows:
                        kid = crm.keys.key_id(token) or ""
                        counts[kid] = counts.get(kid, 0) + 1
                    last_id = rows[-1][0]
        for token in _request_tokens(session):
            kid = crm.keys.key_id(token) or ""
            counts[kid] = counts.get(kid, 0) + 1
    return KeyStatus(crm.keys.active, tuple(sorted(crm.keys.keys)), counts,
                     crm.settings.key is not None)


def _locked_rows(crm: Crm, session: Session, q: Any) -> list[Any]:
    """One batch, row-locked on PostgreSQL (on SQLite, BEGIN IMMEDIATE already serialises
    writers)."""
    if not crm.db.is_sqlite:
        q = q.with_for_update()
    return list(session.execute(q).all())


def _reseal_batch(crm: Crm, session: Session, spec: EncryptedTable, ring: Keyring,
                  after_id: int, batch: int) -> tuple[int, int]:
    """Re-encrypt one batch of stale rows (id > after_id); returns (rows, last id seen)."""
    t = spec.table
    cols = [t.c.id] + [t.c[f"{f}_enc"] for f in spec.fields]
    q = select(*cols).where(t.c.id > after_id, *_stale(spec, ring.active)).order_by(t.c.id).limit(batch)
    rows = _locked_rows(crm, session, q)
    if not rows:
        return 0, -1
    params = []
    for row in rows:
        values: dict[str, object] = {"_id": row[0]}
        for f, token in zip(spec.fields, row[1:], strict=True):
            plain = ring.decrypt(f, token)
            values[f"{f}_enc"] = ring.encrypt(f, plain)
            if f in spec.indexed:
                values[f"{f}_bidx"] = ring.blind_index(f, plain)
        params.append(values)
    set_cols = {f"{f}_enc": bindparam(f"{f}_enc") for f in spec.fields}
    set_cols.update({f"{f}_bidx": bindparam(f"{f}_bidx") for f in spec.indexed})
    session.connection().execute(update(t).where(t.c.id == bindparam("_id")).values(**set_cols),
                                 params)
    if t.name in seals.WATCHED:
        seals.touch(session, t.name, [row[0] for row in rows])  # resealed at commit
    return len(rows), rows[-1][0]


def _sealed_in_request(payload: dict[str, Any]) -> tuple[str, str] | None:
    """(field, token) of the sealed value an approval request carries (a sensitive change's
    new value, `payload.data.value_enc`), or None."""
    data = payload.get("data") or {}
    token = data.get("value_enc")
    # a custom field's value is sealed under its own column name (`custom.customer.<key>`)
    return (data.get("column") or data["field"], token) if token else None


def _request_tokens(session: Session) -> list[str]:
    """Every sealed value held in approval requests, read page by page."""
    t = ApprovalRequest.__table__  # type: ignore[attr-defined]
    tokens: list[str] = []
    last_id = 0
    while True:
        rows = session.execute(select(t.c.id, t.c.payload).where(t.c.id > last_id)
                               .order_by(t.c.id).limit(5000)).all()
        if not rows:
            return tokens
        tokens += [found[1] for _, payload in rows if (found := _sealed_in_request(payload))]
        last_id = rows[-1][0]


def _reseal_requests(crm: Crm, session: Session, ring: Keyring, after_id: int,
                     batch: int) -> tuple[int, int]:
    """Re-encrypt the sealed values in one batch of approval requests (id > after_id) that
    an old key sealed; returns (values resealed, last id seen, or -1 past the end). JSON is
    not searchable alike on SQLite and PostgreSQL, so the batch is read and checked here."""
    t = ApprovalRequest.__table__  # type: ignore[attr-defined]
    q = select(t.c.id, t.c.payload).where(t.c.id > after_id).order_by(t.c.id).limit(batch)
    rows = _locked_rows(crm, session, q)
    if not rows:
        return 0, -1
    params = []
    for request_id, payload in rows:
        found = _sealed_in_request(payload)
        if found is None or ring.key_id(found[1]) == ring.active:
            continue
        field, token = found
        data = {**payload["data"], "value_enc": ring.encrypt(field, ring.decrypt(field, token))}
        params.append({"_id": request_id, "new_payload": {**payload, "data": data}})
    if params:
        session.connection().execute(
            update(t).where(t.c.id == bindparam("_id")).values(payload=bindparam("new_payload")),
            params)
        seals.touch(session, "approval_request", [p["_id"] for p in params])
    return len(params), rows[-1][0]


def _reseal_custom(crm: Crm, session: Session, ring: Keyring, after_id: int,
                   batch: int, entity: str = "customer") -> tuple[int, int]:
    """Re-encrypt sensitive custom-field values (in `<entity>.custom`: customers, leads,
    opportunities, tickets) that an old key sealed, one batch of records (id > after_id);
    returns (records changed, last id, or -1 past the end, or at once when no sensitive
    custom field was ever defined for the entity)."""
    from sqlalchemy import JSON, column, table

    from crm_tui.domain.forms.registry import custom_fields

    sensitive = [f.key for f in custom_fields(crm, entity, include_retired=True)
                 if f.spec.sensitive]
    if not sensitive:
        return 0, -1
    t = table(entity, column("id"), column("custom", JSON))
    rows = session.execute(select(t.c.id, t.c.custom).where(t.c.id > after_id)
                           .order_by(t.c.id).limit(batch)).all()
    if not rows:
        return 0, -1
    params = []
    for record_id, custom in rows:
        values = dict(custom or {})
        changed = False
        for key in sensitive:
            token = values.get(key)
            if token and ring.key_id(token) != ring.active:
                sealed_as = f"custom.{entity}.{key}"
                values[key] = ring.encrypt(sealed_as, ring.decrypt(sealed_as, token))
                changed = True
        if changed:
            params.append({"_id": record_id, "new_custom": values})
    if params:
        session.connection().execute(
            update(t).where(t.c.id == bindparam("_id")).values(custom=bindparam("new_custom")),
            params)
    return len(params), rows[-1][0]


def _set_active_setting(session: Session, kid: str) -> None:
    row = session.get(Setting, "crypto.active_key")
    if row is None:
        session.add(Setting(key="crypto.active_key", value=kid))
    else:
        row.value = kid
        session.add(row)


def rotate_keys(crm: Crm, actor: Actor, *, batch: int = 1000,
                archive_old_keys: Path | None = None,
                on_progress: Callable[[int], None] | None = None) -> RotationReport:
    """Rotate to a new key (or finish an interrupted rotation) as described above."""
    require(actor, Perm.BACKUP)
    if crm.settings.key is not None:
        raise KeyRotationRefused("keys.error.env_key")
    if crm.key_file is None or not crm.key_file.exists():
        raise KeyRotationRefused("keys.error.no_key_file", path=str(crm.key_file or ""))
    ring = crm.keys
    resumed = len(ring.keys) > 1
    if not resumed:
        fresh = Keyring.generate()
        ring = ring.with_keys({**ring.keys, **fresh.keys}, fresh.active)
        write_key_file(crm.key_file, ring)  # both keys on disk before any value changes
        crm.keys = ring
    retired = tuple(sorted(k for k in ring.keys if k != ring.active))
    if archive_old_keys is not None:  # refused now, not after every row was resealed
        safe_files.check_output(archive_old_keys, safe_files.protected_for(crm))
    with crm.db.write() as session:
        audit.record(crm.db, session, actor, "keys.rotate_start", "keys", ring.active, None,
                     {"new_key": ring.active, "retiring": list(retired), "resumed": resumed})
    total = 0
    while True:  # repeat until a full pass finds nothing left sealed by an old key
        changed_this_pass = 0
        for spec in ENCRYPTED_TABLES:
            last_id = 0
            while True:
                with crm.db.write() as session:
                    n, last_id = _reseal_batch(crm, session, spec, ring, last_id, batch)
                if n == 0:
                    break
                changed_this_pass += n
                total += n
                if on_progress:
                    on_progress(total)
        for reseal in (_reseal_requests, *(partial(_reseal_custom, entity=e) for e in
                                           ("customer", "lead", "opportunity", "ticket"))):
            last_id = 0
            while last_id >= 0:
                with crm.db.write() as session:
                    n, last_id = reseal(crm, session, ring, last_id, batch)
                changed_this_pass += n
                total += n
                if n and on_progress:
                    on_progress(total)
        if changed_this_pass == 0:
            break
    if archive_old_keys is not None and retired:
        # Backups taken before today still need the old key; the operator keeps it offline.
        old = ring.with_keys({k: ring.keys[k] for k in retired}, retired[0])
        safe_files.write_text(archive_old_keys, old.to_json(), safe_files.protected_for(crm))
    final = ring.with_keys({ring.active: ring.keys[ring.active]}, ring.active)
    with crm.db.write() as session:
        _set_active_setting(session, ring.active)
        audit.record(crm.db, session, actor, "keys.rotate", "keys", ring.active, None,
                     {"new_key": ring.active, "retired": list(retired), "rows": total,
                      "resumed": resumed, "archived": bool(archive_old_keys and retired)})
    write_key_file(crm.key_file, final)  # the old keys leave only after every row is done
    crm.keys = final
    return RotationReport(ring.active, retired, total, resumed)

"""Row seals: a keyed MAC of each watched row (customer, staff, holding, approval request) as
the product last wrote it, so `crm audit verify --data` names rows changed outside the product.

Sealing is central, not per call site: a Session hook collects every watched row the ORM
flushes, and seals them at commit in the same transaction. Core statements (bulk import, a few
`update()`s) call `touch(session, entity, ids)`; `seal_all` seals a whole database once (after
`crm db upgrade` brought an older one forward). Each row's MAC covers all its columns, so a
copied ciphertext or a changed AUM is named as well as a changed name.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, delete, event, insert, select
from sqlalchemy.orm import Session as OrmSession

from crm_tui.store.db import Database
from crm_tui.store.models import Customer, Holding, Staff
from crm_tui.store.models_compliance import ApprovalRequest
from crm_tui.store.models_trust import RowSeal

WATCHED: dict[str, Any] = {"customer": Customer, "staff": Staff, "holding": Holding,
                           "approval_request": ApprovalRequest}
_BY_CLASS = {cls: name for name, cls in WATCHED.items()}
_TOUCHED = "seal_touched"
PAGE = 2000


def _table(entity: str) -> Table:
    return WATCHED[entity].__table__  # type: ignore[no-any-return]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | bytes):
        return str(value)
    if isinstance(value, bool):
        return int(value)
    return value


_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str)
_AS_IS = frozenset({str, int, float, type(None)})  # their JSON needs no `_plain` first


def mac_members(values: dict[str, Any]) -> str:
    """The `"column": value` members of a seal's JSON body for these columns, in column-name
    order, comma-separated: a bulk writer prepares them in groups elsewhere (import workers)
    and joins them with the ones it knows last (id, timestamps) in `mac_of_members`."""
    return _JSON.encode({k: v if type(v) in _AS_IS else _plain(v)
                         for k, v in values.items()})[1:-1]


def id_member(row_id: int) -> str:
    """`mac_members({"id": row_id})`, cheaply (an integer is its own JSON)."""
    return f'"id": {int(row_id)}'


def mac_of_members(key: bytes, entity: str, row_id: int, members: Iterable[str]) -> str:
    """The seal of a row from its members (see `mac_members`) in column-name order."""
    body = ", ".join(filter(None, members))
    # hmac.digest: one call into OpenSSL (a bulk import seals a row in a few microseconds)
    return hmac.digest(key, f"crm-tui row seal\x1f{entity}\x1f{row_id}\x1f{{{body}}}".encode(),
                       "sha256").hex()


def row_mac(key: bytes, entity: str, row: dict[str, Any]) -> str:
    return mac_of_members(key, entity, row["id"], [mac_members(row)])


def _rows(conn: Any, entity: str, ids: Iterable[int]) -> list[dict[str, Any]]:
    table = _table(entity)
    out: list[dict[str, Any]] = []
    ids = sorted(set(ids))
    for i in range(0, len(ids), 500):
        part = ids[i:i + 500]
        out += [dict(r._mapping) for r in conn.execute(select(table).where(table.c.id.in_(part)))]
    return out


def touch(session: OrmSession, entity: str, ids: Iterable[int | None]) -> None:
    """Mark rows written by a Core statement; they are sealed when the transaction commits."""
    bucket = session.info.setdefault(_TOUCHED, set())
    bucket.update((entity, int(i)) for i in ids if i is not None)


def seal_now(key: bytes, conn: Any, entity: str, ids: Iterable[int],
             event_id: int | None = None) -> dict[int, str]:
    """(Re)write the seals of these rows from their current content: {id: mac}."""
    ids = list(ids)
    if not ids:
        return {}
    macs = {int(r["id"]): row_mac(key, entity, r) for r in _rows(conn, entity, ids)}
    store_macs(conn, entity, macs, ids, event_id)
    return macs


def store_macs(conn: Any, entity: str, macs: dict[int, str], ids: Iterable[int] | None = None,
               event_id: int | None = None) -> None:
    """Replace the seals of `ids` (default: the rows of `macs`) by `macs`. A `range` of ids
    (a bulk import's new rows) is cleared with one range delete."""
    ids = macs if ids is None else ids
    if isinstance(ids, range) and ids.step == 1 and ids:
        conn.execute(delete(RowSeal).where(RowSeal.entity == entity,  # type: ignore[arg-type]
                                           RowSeal.row_id.between(ids[0], ids[-1])))  # type: ignore[attr-defined]
    else:
        ids = list(ids)
        for i in range(0, len(ids), 500):
            conn.execute(delete(RowSeal).where(RowSeal.entity == entity,  # type: ignore[arg-type]
                                               RowSeal.row_id.in_(ids[i:i + 500])))  # type: ignore[attr-defined]
    if not macs:
        return
    if conn.dialect.name == "sqlite":  # the driver's executemany: no per-row parameter objects
        conn.exec_driver_sql("INSERT INTO row_seal (entity, row_id, mac, event_id) "
                             "VALUES (?, ?, ?, ?)",
                             [(entity, k, v, event_id) for k, v in macs.items()])
    else:
        conn.execute(insert(RowSeal), [{"entity": entity, "row_id": k, "mac": v,
                                        "event_id": event_id} for k, v in macs.items()])


@event.listens_for(OrmSession, "after_flush")
def _collect(session: OrmSession, _ctx: Any) -> None:
    if "crm_db" not in session.info:
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        entity = _BY_CLASS.get(type(obj))
        if entity is not None and getattr(obj, "id", None) is not None:
            touch(session, entity, [obj.id])


@event.listens_for(OrmSession, "before_commit")
def _seal(session: OrmSession) -> None:
    db: Database | None = session.info.get("crm_db")
    if db is None or db.audit_key is None:
        return
    session.flush()  # pending ORM changes are flushed after this hook; collect them first
    touched: set[tuple[str, int]] = session.info.pop(_TOUCHED, set())
    if not touched:
        return
    conn = session.connection()
    for entity in WATCHED:
        ids = [i for e, i in touched if e == entity]
        if ids:
            seal_now(db.audit_key, conn, entity, ids)


@event.listens_for(OrmSession, "after_rollback")
def _forget(session: OrmSession) -> None:
    session.info.pop(_TOUCHED, None)


def seal_all(db: Database) -> int:
    """Seal every watched row as it is now (after an upgrade from a version without seals)."""
    assert db.audit_key is not None
    count = 0
    for entity in WATCHED:
        table = _table(entity)
        last = 0
        while True:
            with db.write() as session:
                conn = session.connection()
                ids = [r[0] for r in conn.execute(select(table.c.id).where(table.c.id > last)
                                                  .order_by(table.c.id).limit(PAGE))]
                if not ids:
                    break
                seal_now(db.audit_key, conn, entity, ids)
            count += len(ids)
            last = ids[-1]
    return count


@dataclass(frozen=True)
class DataFinding:
    entity: str
    row_id: int
    problem: str  # "changed" | "unsealed" | "deleted"


def check_data(db: Database, key: bytes) -> Iterator[DataFinding]:
    """Every watched row whose content is not what the product last sealed, in id order."""
    with db.read() as session:
        conn = session.connection()
        for entity in WATCHED:
            table = _table(entity)
            last = 0
            while True:
                rows = [dict(r._mapping) for r in conn.execute(
                    select(table).where(table.c.id > last).order_by(table.c.id).limit(PAGE))]
                if not rows:
                    break
                ids = [r["id"] for r in rows]
                seals = dict(conn.execute(
                    select(RowSeal.row_id, RowSeal.mac).where(  # type: ignore[call-overload]
                        RowSeal.entity == entity, RowSeal.row_id.in_(ids))).all())
                for r in rows:
                    sealed = seals.get(r["id"])
                    if sealed is None:
                        yield DataFinding(entity, r["id"], "unsealed")
                    elif not hmac.compare_digest(sealed, row_mac(key, entity, r)):
                        yield DataFinding(entity, r["id"], "changed")
                last = ids[-1]
            # A seal whose row is gone: deleted outside the product (the product never deletes
            # these rows without an audited change that drops the seal too).
            gone = conn.execute(
                select(RowSeal.row_id).where(RowSeal.entity == entity,  # type: ignore[call-overload]
                                             RowSeal.row_id.not_in(select(table.c.id)))
                .order_by(RowSeal.row_id)).all()
            for (rid,) in gone:
                yield DataFinding(entity, rid, "deleted")

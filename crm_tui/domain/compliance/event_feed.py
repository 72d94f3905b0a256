"""The core-banking event feed: login events and transactions, as CSV or JSON lines.

Columns / keys: `event_id` (optional but recommended: the idempotency key), `type`
(`login` | `transaction`), `customer_id`, `occurred_at` (ISO 8601; no zone = the
configured zone), `success` (logins), `region` (logins), `tx_kind` (transactions, e.g.
`transfer`, `cross_border`), `amount` (transactions, > 0), `currency` (default CNY).

Every line is checked first; bad lines are reported with their line number and skipped.
Good lines are then stored in time order, each with the alerts it raises in one
transaction, so nothing is half-applied. A line already stored (same `event_id`, or
without one, the same content) is counted as a duplicate and raises nothing again.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from crm_tui.domain.compliance.alerts import evaluate_event
from crm_tui.domain.kernel.actor import Actor, system_actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.messages import Msg, label
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.validation import BadValue, normalise_text, parse_amount, to_fen
from crm_tui.store.models import TRADE_KINDS, Customer
from crm_tui.store.models_compliance import CoreEvent

EVENT_TYPES = ("login", "transaction")
TX_KINDS = (*TRADE_KINDS, "deposit", "withdrawal")
_TRUE = {"1", "true", "yes", "y", "t", "success", "ok", "成功", "是"}
_FALSE = {"0", "false", "no", "n", "f", "failed", "failure", "fail", "失败", "否"}


@dataclass(frozen=True)
class FeedError:
    line: int
    field: str
    key: str
    params: dict[str, Any]

    @property
    def note(self) -> Msg:
        """`line N: field: reason` as a message (the CLI translates it)."""
        reason = Msg(self.key, self.params)
        if self.field:
            return Msg("compliance.feed.error", {"line": self.line, "reason": reason,
                                                 "field": label("compliance.feed.field", self.field)})
        return Msg("compliance.feed.error_no_field", {"line": self.line, "reason": reason})


@dataclass(frozen=True)
class FeedEvent:
    line: int
    event_key: str
    kind: str
    customer_id: int
    occurred_at: datetime
    success: bool
    region: str
    tx_kind: str
    amount_fen: int
    currency: str


@dataclass(frozen=True)
class FeedReport:
    lines: int
    stored: int
    duplicates: int
    alerts: tuple[int, ...]
    errors: tuple[FeedError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


class _Bad(Exception):
    def __init__(self, field: str, key: str, **params: Any) -> None:
        super().__init__(key)
        self.field, self.key, self.params = field, key, params


MAX_ID = 2**31 - 1  # customer.id is an INTEGER column
MAX_FEN = 2**63 - 1  # amount_fen is a BIGINT column
MIN_YEAR, MAX_YEAR = 1900, 2100


def _decode(raw: bytes) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace")


def read_lines(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, FeedError | None]]:
    """(line number, raw record or None, error or None) for every non-blank line."""
    text = _decode(path.read_bytes())
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if first.startswith("{"):
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                yield n, None, FeedError(n, "", "compliance.feed.bad_json", {"detail": exc.msg})
                continue
            except (ValueError, RecursionError) as exc:  # absurd nesting or numbers
                yield n, None, FeedError(n, "", "compliance.feed.bad_json",
                                         {"detail": type(exc).__name__})
                continue
            if not isinstance(rec, dict):
                yield n, None, FeedError(n, "", "compliance.feed.bad_json",
                                         {"detail": "not an object"})
                continue
            yield n, rec, None
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a field over the csv limit: this line, then read on
            yield reader.line_num, None, FeedError(reader.line_num, "", "import.error.csv_row",
                                                   {"detail": str(exc)})
            continue
        n = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [normalise_text(h).lower() for h in row]
            missing = [h for h in ("type", "customer_id", "occurred_at") if h not in header]
            if missing:
                yield n, None, FeedError(n, "", "compliance.feed.bad_header",
                                         {"missing": ", ".join(missing)})
                return
            continue
        if len(row) != len(header):
            yield n, None, FeedError(n, "", "compliance.feed.bad_columns",
                                     {"found": len(row), "expected": len(header)})
            continue
        yield n, dict(zip(header, row, strict=True)), None


def _text(rec: dict[str, Any], key: str) -> str:
    value = rec.get(key)
    return "" if value is None else normalise_text(str(value))


def _when(raw: str, tz: Any) -> datetime:
    if not raw:
        raise _Bad("occurred_at", "validation.required")
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        value = value if value.tzinfo else value.replace(tzinfo=tz)
        utc = value.astimezone(UTC)  # 0001-01-01T00:00+14:00 has no UTC time: a row error
    except (ValueError, OverflowError) as exc:
        raise _Bad("occurred_at", "compliance.feed.bad_time", value=raw[:40]) from exc
    if not MIN_YEAR <= utc.year <= MAX_YEAR:
        raise _Bad("occurred_at", "compliance.feed.bad_time", value=raw[:40])
    return value


def _success(raw: str) -> bool:
    low = raw.lower()
    if low == "" or low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise _Bad("success", "compliance.feed.bad_bool", value=raw)


def parse_record(n: int, rec: dict[str, Any], tz: Any) -> FeedEvent:
    kind = _text(rec, "type").lower()
    if kind not in EVENT_TYPES:
        raise _Bad("type", "validation.choice", value=kind)
    cid_raw = _text(rec, "customer_id")
    if not cid_raw.isascii() or not cid_raw.isdigit() or int(cid_raw) > MAX_ID:
        raise _Bad("customer_id", "compliance.feed.bad_customer", value=cid_raw)
    occurred = _when(_text(rec, "occurred_at"), tz)
    success, region, tx_kind, amount_fen = True, "", "", 0
    currency = (_text(rec, "currency") or "CNY").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise _Bad("currency", "validation.choice", value=currency)
    if kind == "login":
        success = _success(_text(rec, "success"))
        region = _text(rec, "region")[:50]
    else:
        tx_kind = _text(rec, "tx_kind").lower()
        if tx_kind not in TX_KINDS:
            raise _Bad("tx_kind", "validation.choice", value=tx_kind)
        raw_amount = _text(rec, "amount")
        if not raw_amount:
            raise _Bad("amount", "validation.required")
        try:
            amount = parse_amount(raw_amount, allow_zero=False)
        except BadValue as exc:
            raise _Bad("amount", exc.key, **exc.params) from exc
        amount_fen = to_fen(amount)
        if abs(amount_fen) > MAX_FEN:
            raise _Bad("amount", "import.error.too_big")
    event_id = _text(rec, "event_id")[:64]
    if event_id:
        key = f"id:{event_id}"
    else:
        canon = "|".join([kind, cid_raw, occurred.isoformat(), str(success), region, tx_kind,
                          str(amount_fen), currency])
        key = "h:" + hashlib.sha256(canon.encode()).hexdigest()[:40]
    return FeedEvent(n, key, kind, int(cid_raw), occurred, success, region, tx_kind,
                     amount_fen, currency)


def import_events(crm: Crm, actor: Actor, path: Path) -> FeedReport:
    """Check every line, then store the good ones in time order, each with its alerts."""
    require(actor, Perm.FEED_IMPORT)
    errors: list[FeedError] = []
    events: list[FeedEvent] = []
    lines = 0
    for n, rec, err in read_lines(path):
        lines += 1
        if err is not None:
            errors.append(err)
            continue
        assert rec is not None
        try:
            events.append(parse_record(n, rec, crm.tz))
        except _Bad as bad:
            errors.append(FeedError(n, bad.field, bad.key, bad.params))
        except Exception as exc:  # noqa: BLE001 - no exception type escapes a line
            errors.append(FeedError(n, "", "import.error.row_failed",
                                    {"detail": f"{type(exc).__name__}: {str(exc)[:120]}"}))
    known: set[int] = set()
    ids = sorted({e.customer_id for e in events})
    with crm.db.read() as session:
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            known.update(session.scalars(select(Customer.id).where(Customer.id.in_(chunk))).all())  # type: ignore[union-attr]
    good = []
    for e in events:
        if e.customer_id in known:
            good.append(e)
        else:
            errors.append(FeedError(e.line, "customer_id", "compliance.feed.unknown_customer",
                                    {"id": e.customer_id}))
    good.sort(key=lambda e: (e.occurred_at, e.line))
    feed_actor = system_actor("feed") if actor.id is None else actor
    policy = crm.policy()
    stored = duplicates = 0
    alerts: list[int] = []
    for e in good:
        try:
            with crm.db.write() as session:
                if session.scalar(select(CoreEvent.id).where(CoreEvent.event_key == e.event_key)):
                    duplicates += 1
                    continue
                ev = CoreEvent(event_key=e.event_key, kind=e.kind, customer_id=e.customer_id,
                               occurred_at=e.occurred_at, success=e.success, region=e.region,
                               tx_kind=e.tx_kind, amount_fen=e.amount_fen, currency=e.currency)
                session.add(ev)
                session.flush()
                raised = evaluate_event(crm, session, feed_actor, policy, ev)
                alerts.extend(a.id or 0 for a in raised)
                stored += 1
        except (SQLAlchemyError, OverflowError, ValueError) as exc:  # this line only
            detail = str(getattr(exc, "orig", exc)).splitlines()[0][:160]
            errors.append(FeedError(e.line, "", "import.error.store_failed", {"detail": detail}))
    errors.sort(key=lambda x: x.line)
    return FeedReport(lines, stored, duplicates, tuple(alerts), tuple(errors))

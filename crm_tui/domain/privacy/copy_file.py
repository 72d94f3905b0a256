"""The access-and-copy file (PIPL art. 45): everything the bank holds about one person, in
XLSX or JSON, labelled in the customer's language — profile fields, KYC documents (metadata),
risk assessments, holdings, trades, interactions, tags, consents, rights requests, the leads
linked to the customer, opportunities and service tickets. Each record carries its custom
field values (form engine) by their labels, retired fields too when they hold a value.
Sensitive values are shown in full: it is the customer's own data. Only compliance makes
it; the file is 0600, and the export is audited (against the access request when one is
named) and goes to the access log."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from crm_tui.domain.customers.custom_values import ENTITY, display, plain_value
from crm_tui.domain.customers.scope import load_in_scope
from crm_tui.domain.forms.registry import custom_fields
from crm_tui.domain.kernel import audit, safe_files
from crm_tui.domain.kernel.access_log import log_access
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import Blocked
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.validation import from_fen
from crm_tui.domain.privacy.private_file import write_private
from crm_tui.i18n import LANGUAGES, catalog, normalise
from crm_tui.store.models import (
    Branch,
    Customer,
    CustomerTag,
    Holding,
    Interaction,
    KycDocument,
    Product,
    RiskAssessment,
    Staff,
    Tag,
    Trade,
)
from crm_tui.store.models_privacy import ConsentRecord, PrivacyRequest
from crm_tui.store.models_sales import Lead, Opportunity
from crm_tui.store.models_service import Ticket

FORMATS = ("xlsx", "json")
PROFILE_FIELDS = ("name", "kind", "id_type", "national_id", "phone", "bank_account", "email",
                  "birth_date", "gender", "address", "occupation", "annual_income", "goals",
                  "risk_level", "aum", "branch_code", "rm_username")
_SECRET = {"national_id": "national_id_enc", "phone": "phone_enc",
           "bank_account": "bank_account_enc"}
# Stored codes of another area's choice columns, shown by their labels.
_CHOICES = {("leads", "source"): "sales.source", ("leads", "status"): "sales.lead_status",
            ("opportunities", "stage"): "sales.stage", ("tickets", "type"): "service.type",
            ("tickets", "priority"): "service.priority", ("tickets", "state"): "service.state",
            ("tickets", "channel"): "channel"}


@dataclass(frozen=True)
class Section:
    key: str
    columns: tuple[str, ...]  # catalog keys of the column labels
    rows: tuple[tuple[Any, ...], ...]
    extra: tuple[str, ...] = ()
    """Labels of the custom fields whose values end each row, after `columns`."""

    def headers(self, lab: Callable[[str], str]) -> list[str]:
        return [lab(c) for c in self.columns] + list(self.extra)


@dataclass(frozen=True)
class CopyReport:
    path: Path
    format: str
    counts: dict[str, int]


def _label(lang: str) -> Callable[[str], str]:
    cat, fallback = catalog(lang), catalog("en")
    # A column of another area's table (tickets) without a label shows its own name.
    return lambda key: cat.get(key) or fallback.get(key) or key.rsplit(".", 1)[-1]


def _profile(crm: Crm, session: Session, c: Customer, lab: Callable[[str], str],
             lang: str) -> Section:
    branch = session.scalar(select(Branch.name).where(Branch.id == c.branch_id)) or ""
    rm = session.scalar(select(Staff.display_name).where(Staff.id == c.rm_id)) or ""
    rows = []
    for key in PROFILE_FIELDS:
        if key in _SECRET:
            value: Any = crm.keys.decrypt(key, getattr(c, _SECRET[key])) or ""
        elif key in ("annual_income", "aum"):
            value = from_fen(getattr(c, f"{key}_fen"))
        elif key == "branch_code":
            value = branch
        elif key == "rm_username":
            value = rm
        elif key == "kind":
            value = lab(f"customer_kind.{c.kind}")
        elif key == "gender":
            value = lab(f"gender.{c.gender}") if c.gender else ""
        else:
            value = getattr(c, key)
        rows.append((lab(f"field.{key}"), value))
    # the admins' custom fields (form engine), retired ones too when they hold a value
    labels, (values,) = _custom_cells(crm, ENTITY, [c.custom], lang)
    rows.extend(zip(labels, values, strict=True))
    return Section("profile", ("privacy.copy.col.field", "privacy.copy.col.value"), tuple(rows))


def _custom_cells(crm: Crm, entity: str, customs: list[dict[str, Any] | None],
                  lang: str) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """The custom fields of `entity` for these records — every active one, a retired one
    when a record holds a value for it — as (labels, each record's values in plain text)."""
    stored = [dict(c or {}) for c in customs]
    fields = [f for f in custom_fields(crm, entity, include_retired=True)
              if not f.retired or any(c.get(f.key) is not None for c in stored)]
    return (tuple(f.label(lang) for f in fields),
            [tuple(display(plain_value(crm, f, c.get(f.key))) for f in fields) for c in stored])


def _sections(crm: Crm, session: Session, c: Customer, lab: Callable[[str], str],
              lang: str) -> list[Section]:
    cid = c.id
    out = [_profile(crm, session, c, lab, lang)]

    def section(key: str, cols: tuple[str, ...], q: Any) -> None:
        out.append(Section(key, tuple(f"privacy.copy.col.{k}" for k in cols),
                           tuple(tuple(r) for r in session.execute(q).all())))

    section("kyc", ("kind", "status", "expires_on", "uploaded_at", "verified_at", "note"),
            select(KycDocument.kind, KycDocument.status, KycDocument.expires_on,
                   KycDocument.uploaded_at, KycDocument.verified_at, KycDocument.note)
            .where(KycDocument.customer_id == cid).order_by(KycDocument.id))
    section("risk", ("level", "score", "assessed_at", "valid_until", "answers"),
            select(RiskAssessment.level, RiskAssessment.score, RiskAssessment.assessed_at,
                   RiskAssessment.valid_until, RiskAssessment.answers)
            .where(RiskAssessment.customer_id == cid).order_by(RiskAssessment.id))
    section("holdings", ("product_code", "product", "amount"),
            select(Product.code, Product.name, Holding.amount_fen)
            .join(Product, Product.id == Holding.product_id)
            .where(Holding.customer_id == cid).order_by(Holding.id))
    section("trades", ("occurred_at", "trade_kind", "product", "amount", "currency", "status"),
            select(Trade.occurred_at, Trade.kind, Product.name, Trade.amount_fen, Trade.currency,
                   Trade.status)
            .outerjoin(Product, Product.id == Trade.product_id)
            .where(Trade.customer_id == cid).order_by(Trade.occurred_at, Trade.id))
    section("interactions", ("occurred_at", "channel", "subject", "summary", "next_action"),
            select(Interaction.occurred_at, Interaction.channel, Interaction.subject,
                   Interaction.summary, Interaction.next_action)
            .where(Interaction.customer_id == cid).order_by(Interaction.occurred_at))
    section("tags", ("tag", "added_at"),
            select(Tag.name, CustomerTag.added_at).join(Tag, Tag.id == CustomerTag.tag_id)
            .where(CustomerTag.customer_id == cid).order_by(Tag.name))
    section("consents", ("purpose", "granted", "notice_version", "channel", "recorded_at"),
            select(ConsentRecord.purpose, ConsentRecord.granted, ConsentRecord.notice_version,
                   ConsentRecord.channel, ConsentRecord.recorded_at)
            .where(ConsentRecord.customer_id == cid).order_by(ConsentRecord.id))
    section("requests", ("kind", "state", "opened_at", "closed_at", "outcome"),
            select(PrivacyRequest.kind, PrivacyRequest.state, PrivacyRequest.opened_at,
                   PrivacyRequest.closed_at, PrivacyRequest.outcome)
            .where(PrivacyRequest.customer_id == cid).order_by(PrivacyRequest.id))
    out.extend(_records(crm, session, cid or 0, lang))
    return [_localise(s, lab) for s in out]


def _records(crm: Crm, session: Session, customer_id: int, lang: str) -> list[Section]:
    """The customer's leads, opportunities and tickets, each row ending with its custom
    values (in plain text: a sensitive one decrypted, as in the profile)."""
    def section(key: str, entity: str, cols: tuple[str, ...], q: Any,
                secret: tuple[str, ...] = ()) -> Section:
        rows = session.execute(q).all()
        labels, values = _custom_cells(crm, entity, [r[-1] for r in rows], lang)
        plain = [tuple(crm.keys.decrypt(c, v) if c in secret and v else v
                       for c, v in zip(cols, r[:-1], strict=True)) for r in rows]
        return Section(key, tuple(f"privacy.copy.col.{c}" for c in cols),
                       tuple(p + v for p, v in zip(plain, values, strict=True)), labels)

    return [
        section("leads", "lead", ("created_at", "source", "name", "phone", "national_id",
                                  "product_interest", "note", "status"),
                select(Lead.created_at, Lead.source, Lead.name, Lead.phone_enc,
                       Lead.national_id_enc, Lead.product_interest, Lead.note, Lead.status,
                       Lead.custom).where(Lead.customer_id == customer_id).order_by(Lead.id),
                secret=("phone", "national_id")),
        section("opportunities", "opportunity", ("created_at", "stage", "product", "amount",
                                                 "closed_at", "lost_reason"),
                select(Opportunity.created_at, Opportunity.stage, Product.name,
                       Opportunity.amount_fen, Opportunity.closed_at, Opportunity.lost_reason,
                       Opportunity.custom)
                .outerjoin(Product, Product.id == Opportunity.product_id)
                .where(Opportunity.customer_id == customer_id).order_by(Opportunity.id)),
        section("tickets", "ticket", ("id", "created_at", "type", "priority", "channel",
                                      "subject", "description", "state", "resolution_note",
                                      "resolved_at", "closed_at", "csat"),
                select(Ticket.id, Ticket.created_at, Ticket.type, Ticket.priority,
                       Ticket.channel, Ticket.subject, Ticket.description, Ticket.state,
                       Ticket.resolution_note, Ticket.resolved_at, Ticket.closed_at,
                       Ticket.csat, Ticket.custom)
                .where(Ticket.customer_id == customer_id).order_by(Ticket.id)),
    ]


_AMOUNT_COLS = {"privacy.copy.col.amount"}


def _cell(col: str, value: Any, lab: Callable[[str], str], section: str) -> Any:
    prefix = _CHOICES.get((section, col.rsplit(".", 1)[1]))
    if prefix is not None and value:
        return lab(f"{prefix}.{value}")
    if col in _AMOUNT_COLS and isinstance(value, int):
        return from_fen(value)
    if col == "privacy.copy.col.purpose":
        return lab(f"privacy.purpose.{value}")
    if col == "privacy.copy.col.granted":
        return lab("privacy.copy.granted" if value else "privacy.copy.withdrawn")
    if section == "requests" and col in ("privacy.copy.col.kind", "privacy.copy.col.state"):
        return lab(f"privacy.{col.rsplit('.', 1)[1]}.{value}")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _localise(s: Section, lab: Callable[[str], str]) -> Section:
    if s.key == "profile":
        return s
    width = len(s.columns)
    return Section(s.key, s.columns, tuple(
        tuple(_cell(c, v, lab, s.key) for c, v in zip(s.columns, row[:width], strict=True))
        + tuple(row[width:]) for row in s.rows), s.extra)


def _plain(value: Any, tz: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return "" if value is None else value


def _write(path: Path, fmt: str, sections: list[Section], head: dict[str, Any],
           lab: Callable[[str], str], tz: Any) -> None:
    if fmt == "json":
        doc = {**{k: _plain(v, tz) for k, v in head.items()}, "sections": [
            {"key": s.key, "title": lab(f"privacy.copy.section.{s.key}"),
             "rows": [{h: _plain(v, tz) for h, v in zip(s.headers(lab), r, strict=True)}
                      for r in s.rows]} for s in sections]}
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
        return
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    cover = wb.create_sheet(lab("privacy.copy.cover")[:31])
    for key, value in head.items():
        cover.append([lab(f"privacy.copy.head.{key}"), _plain(value, tz)])
    for s in sections:
        ws = wb.create_sheet(lab(f"privacy.copy.section.{s.key}")[:31])
        ws.append(s.headers(lab))
        for r in s.rows:
            ws.append([safe_files.defuse(_plain(v, tz)) for v in r])
    wb.save(path)


def make_copy(crm: Crm, actor: Actor, customer_id: int, path: Path, fmt: str = "xlsx", *,
              request_id: int | None = None, lang: str | None = None,
              now: datetime | None = None) -> CopyReport:
    """Write the customer's copy file to `path`; returns the path and rows per section."""
    require(actor, Perm.PRIVACY_HANDLE)
    if fmt not in FORMATS:
        raise Blocked("privacy.error.copy_format", format=fmt, formats=", ".join(FORMATS))
    language = normalise(lang) or "zh_CN"
    assert language in LANGUAGES
    lab = _label(language)
    with crm.db.read() as session:
        c = load_in_scope(session, actor, customer_id, include_restricted=True)
        if request_id is not None:
            req = session.get(PrivacyRequest, request_id)
            if req is None or req.customer_id != customer_id or req.kind != "access":
                raise Blocked("privacy.error.request_not_found", id=request_id)
        sections = _sections(crm, session, c, lab, language)
    from crm_tui.store.types import utcnow

    head = {"customer_id": customer_id, "name": c.name, "generated_at": now or utcnow(),
            "request_id": request_id or ""}
    counts = {s.key: len(s.rows) for s in sections}

    def fill(tmp: Path) -> None:
        _write(tmp, fmt, sections, head, lab, crm.tz)
        with crm.db.write() as session:
            audit.record(crm.db, session, actor, "privacy.copy",
                         "privacy_request" if request_id else "customer",
                         request_id or customer_id, None,
                         {"customer_id": customer_id, "format": fmt, "file": Path(path).name,
                          "lang": language, "counts": counts})
            log_access(crm.db, actor, "copy", customer_id=customer_id, session=session)

    out = write_private(crm, Path(path), fill)
    return CopyReport(out, fmt, counts)

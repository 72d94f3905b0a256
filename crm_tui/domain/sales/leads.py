"""Leads: intake (form or import), sealing, linking to an existing customer, assignment,
reassignment, first contact and the lists (mine, unassigned, breached).

The first-contact clock starts when the lead arrives (`created_at`) and runs for the
policy's hours, wall-clock; reassigning moves the lead and its task to another RM but
never restarts the clock. Logging a contact (here, or an interaction with the linked
customer) stops it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlmodel import Session

from crm_tui.domain.forms.filters import CustomFilter
from crm_tui.domain.forms.filters import clauses as custom_clauses
from crm_tui.domain.forms.values import stored_for_new
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import (
    Blocked,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from crm_tui.domain.kernel.fields import clean
from crm_tui.domain.kernel.masking import MASKERS
from crm_tui.domain.kernel.permissions import Perm, Role, can
from crm_tui.domain.kernel.validation import from_fen, normalise_text, to_fen
from crm_tui.domain.sales import fields as _fields  # noqa: F401  (registers the lead fields)
from crm_tui.domain.sales.assignment import choose_owner
from crm_tui.domain.workflow.notifications import notify
from crm_tui.domain.workflow.tasks import cancel_tasks, create_task
from crm_tui.store.models import Branch, Customer, Staff
from crm_tui.store.models_sales import Lead
from crm_tui.store.types import utcnow

PAGE = 100
OPEN = ("new", "assigned")
"""A lead whose first-contact clock still runs."""
VIEWS = ("mine", "unassigned", "breached", "all")


@dataclass(frozen=True)
class LeadView:
    id: int
    name: str
    source: str
    phone: str  # masked
    status: str
    owner: str | None  # user name
    owner_name: str | None
    customer_id: int | None
    branch_id: int | None
    estimated_assets: Decimal
    product_interest: str
    created_at: datetime
    assigned_at: datetime | None
    first_contact_due: datetime
    first_contact_at: datetime | None
    breached: bool
    rule: str


def _bad(field: str, key: str, **params: Any) -> ValidationFailed:
    return ValidationFailed([FieldError(field, key, params)])


def _may_take_leads(actor: Actor) -> bool:
    return can(actor, Perm.CUSTOMER_CREATE) or can(actor, Perm.DATA_IMPORT)


def intake(crm: Crm, session: Session, actor: Actor, values: dict[str, Any], *,
           now: datetime, row: int | None = None) -> Lead:
    """Store one cleaned lead (sealed, linked, assigned) in the caller's transaction."""
    policy = crm.policy()
    branch = None
    code = values.get("branch_code")
    if code:
        branch = session.scalars(select(Branch).where(Branch.code == code)).first()
        if branch is None:
            raise ValidationFailed([FieldError("branch_code", "validation.unknown_branch",
                                               {"code": code}, row)])
    elif actor.branch_id is not None:
        branch = session.get(Branch, actor.branch_id)
    created = values.get("created_at") or now
    if created > now + timedelta(minutes=5):
        raise ValidationFailed([FieldError("created_at", "validation.date_future", {}, row)])
    phone, nid = values.get("phone"), values.get("national_id")
    keys = crm.keys
    lead = Lead(source=values["source"], name=values["name"],
                phone_enc=keys.encrypt("phone", phone), phone_bidx=keys.blind_index("phone", phone),
                phone_last4=phone[-4:] if phone else None,
                national_id_enc=keys.encrypt("national_id", nid),
                national_id_bidx=keys.blind_index("national_id", nid),
                branch_id=branch.id if branch else None,
                region=values.get("region") or (branch.region if branch else ""),
                estimated_assets_fen=to_fen(values.get("estimated_assets") or Decimal(0)),
                product_interest=values.get("product_interest") or "",
                note=values.get("note") or "", created_at=created, custom=values.get("custom") or {},
                first_contact_due=created + timedelta(hours=policy.sales.first_contact_hours))
    lead.customer_id = _linked_customer(session, lead)
    session.add(lead)
    session.flush()
    owner_id, rule = choose_owner(
        session, policy, branch_code=branch.code if branch else None, region=lead.region,
        assets=from_fen(lead.estimated_assets_fen), interest=lead.product_interest,
        source=lead.source)
    audit.record(crm.db, session, actor, "lead.create", "lead", lead.id, None,
                 {"source": lead.source, "name": lead.name, "customer_id": lead.customer_id,
                  "phone": MASKERS["phone"](phone) if phone else None, "rule": rule or None})
    if owner_id is not None:
        _assign(crm, session, actor, lead, owner_id, rule, now)
    return lead


def _linked_customer(session: Session, lead: Lead) -> int | None:
    """The existing customer with the same ID (else phone), found by blind index."""
    for column, value in ((Customer.national_id_bidx, lead.national_id_bidx),
                          (Customer.phone_bidx, lead.phone_bidx)):
        if value:
            found = session.scalar(select(Customer.id).where(column == value).limit(1))
            if found is not None:
                return found
    return None


def _assign(crm: Crm, session: Session, actor: Actor, lead: Lead, owner_id: int, rule: str,
            now: datetime) -> None:
    before = {"owner_id": lead.owner_id, "status": lead.status}
    lead.owner_id = owner_id
    lead.assigned_at = now
    lead.assignment_rule = rule
    if lead.status == "new":
        lead.status = "assigned"
    lead.version += 1
    session.add(lead)
    audit.record(crm.db, session, actor, "lead.assign", "lead", lead.id, before,
                 {"owner_id": owner_id, "rule": rule or None, "status": lead.status})
    notify(session, owner_id, "lead_assigned", "sales.notify.lead_assigned",
           {"id": lead.id, "name": lead.name}, entity="lead", entity_id=lead.id)
    if lead.first_contact_at is None:
        create_task(crm.db, session, actor, owner_id=owner_id, kind="lead_contact",
                    title_key="sales.task.lead_contact", due_at=lead.first_contact_due,
                    params={"id": lead.id, "name": lead.name}, customer_id=lead.customer_id,
                    entity="lead", entity_id=lead.id,
                    dedupe_key=f"lead-contact:{lead.id}:{owner_id}:{lead.version}")


def create_lead(crm: Crm, actor: Actor, raw: dict[str, Any], now: datetime | None = None) -> int:
    """A lead typed into the form; refused with every field problem at once."""
    if not _may_take_leads(actor):
        raise PermissionDenied(role=actor.role, action="lead.create")
    values, errors = clean("lead", raw)
    try:
        values["custom"] = stored_for_new(crm, "lead", raw.get("custom"))
    except ValidationFailed as exc:
        errors += exc.errors
    if errors:
        raise ValidationFailed(errors)
    now = now or utcnow()
    with crm.db.write() as session:
        return intake(crm, session, actor, values, now=now).id or 0


def _supervises(session: Session, actor: Actor, lead: Lead) -> bool:
    if actor.role == Role.BRANCH_HEAD.value:
        return actor.branch_id is not None and lead.branch_id == actor.branch_id
    if actor.role != Role.SUPERVISOR.value:
        return False
    if lead.owner_id is None:
        return actor.branch_id is not None and lead.branch_id == actor.branch_id
    team = session.scalar(select(Staff.team_id).where(Staff.id == lead.owner_id))
    return team is not None and team == actor.team_id


def _load(session: Session, lead_id: int) -> Lead:
    lead = session.scalars(select(Lead).where(Lead.id == lead_id).with_for_update()).first()
    if lead is None:
        raise NotFound("sales.error.lead_not_found", id=lead_id)
    return lead


def reassign(crm: Crm, actor: Actor, lead_id: int, username: str,
             now: datetime | None = None) -> None:
    """A supervisor (or branch head) gives the lead to another active RM. Audited; the SLA
    due time and any breach stay as they were."""
    now = now or utcnow()
    with crm.db.write() as session:
        lead = _load(session, lead_id)
        if not _supervises(session, actor, lead):
            raise PermissionDenied(role=actor.role, action="lead.reassign")
        if lead.status in ("converted", "disqualified"):
            raise Blocked("sales.error.lead_closed", id=lead_id)
        target = session.scalars(select(Staff).where(
            Staff.username == normalise_text(username))).first()
        if target is None or not target.active or target.role != Role.RM.value:
            raise _bad("owner", "sales.error.not_active_rm", user=username)
        if lead.branch_id is not None and target.branch_id != lead.branch_id:
            raise _bad("owner", "sales.error.other_branch", user=username)
        if target.id == lead.owner_id:
            return
        old = lead.owner_id
        cancel_tasks(crm.db, session, actor, entity="lead", entity_id=lead.id or 0,
                     kind="lead_contact")
        _assign(crm, session, actor, lead, target.id or 0, "reassigned", now)
        audit.record(crm.db, session, actor, "lead.reassign", "lead", lead.id,
                     {"owner_id": old}, {"owner_id": target.id,
                                         "first_contact_due": lead.first_contact_due})


def stop_clock(crm: Crm, session: Session, actor: Actor, lead: Lead, at: datetime) -> None:
    if lead.first_contact_at is None:
        lead.first_contact_at = at
    if lead.status in OPEN:
        lead.status = "contacted"
    lead.version += 1
    session.add(lead)
    cancel_tasks(crm.db, session, actor, entity="lead", entity_id=lead.id or 0,
                 kind="lead_contact")
    audit.record(crm.db, session, actor, "lead.contact", "lead", lead.id, None,
                 {"first_contact_at": lead.first_contact_at, "status": lead.status})


def record_contact(crm: Crm, actor: Actor, lead_id: int, note: str = "",
                   at: datetime | None = None) -> None:
    """The owner (or her supervisor) logs the first contact: the clock stops."""
    at = at or utcnow()
    if len(normalise_text(note)) > 1000:
        raise _bad("note", "validation.too_long", max=1000)
    with crm.db.write() as session:
        lead = _load(session, lead_id)
        if lead.owner_id != actor.id and not _supervises(session, actor, lead):
            raise PermissionDenied(role=actor.role, action="lead.contact")
        if lead.status in ("converted", "disqualified"):
            raise Blocked("sales.error.lead_closed", id=lead_id)
        stop_clock(crm, session, actor, lead, at)


def lead_scope(actor: Actor) -> ColumnElement[bool]:
    """Leads the actor may see: an RM her own; a supervisor her team's and her branch's
    unassigned queue; a branch head her branch's; the system operator (CLI) all."""
    if actor.id is None and actor.role == Role.ADMIN.value:
        return true()
    if actor.role == Role.RM.value:
        return Lead.owner_id == actor.id  # type: ignore[return-value]
    if actor.role == Role.SUPERVISOR.value:
        team = select(Staff.id).where(Staff.team_id == actor.team_id)
        return or_(Lead.owner_id.in_(team),  # type: ignore[union-attr]
                   (Lead.owner_id.is_(None)) & (Lead.branch_id == actor.branch_id))  # type: ignore[union-attr]
    if actor.role == Role.BRANCH_HEAD.value:
        return Lead.branch_id == actor.branch_id  # type: ignore[return-value]
    return false()


def list_leads(crm: Crm, actor: Actor, *, view: str = "all", status: str | None = None,
               owner: str | None = None, before_id: int | None = None, limit: int = PAGE,
               now: datetime | None = None, custom: Sequence[CustomFilter] = ()) -> list[LeadView]:
    """Newest first, keyset-paged on id, within the actor's scope; `custom` filters by
    filterable custom fields (`forms.filters.parse_filters`)."""
    if view not in VIEWS:
        raise _bad("view", "validation.choice", value=view)
    now = now or utcnow()
    owner_t = Staff.__table__.alias("owner")  # type: ignore[attr-defined]
    q = (select(Lead, owner_t.c.username, owner_t.c.display_name)
         .outerjoin(owner_t, owner_t.c.id == Lead.owner_id).where(lead_scope(actor)))
    if view == "mine":
        q = q.where(Lead.owner_id == actor.id)
    elif view == "unassigned":
        q = q.where(Lead.owner_id.is_(None), Lead.status == "new")  # type: ignore[union-attr]
    elif view == "breached":
        q = q.where(Lead.first_contact_at.is_(None), Lead.status.in_(OPEN),  # type: ignore[union-attr,attr-defined]
                    Lead.first_contact_due <= now)
    if status is not None:
        q = q.where(Lead.status == status)
    if owner is not None:
        q = q.where(owner_t.c.username == owner)
    if before_id is not None:
        q = q.where(Lead.id < before_id)  # type: ignore[operator]
    q = q.where(*custom_clauses(custom, Lead.custom))
    q = q.order_by(Lead.id.desc()).limit(limit)  # type: ignore[union-attr]
    with crm.db.read() as session:
        return [_view(crm, lead, user, name, now) for lead, user, name in session.execute(q)]


def _view(crm: Crm, lead: Lead, user: str | None, name: str | None,
          now: datetime) -> LeadView:
    """Breached: marked by the job, or contact (or now, without one) after the due time."""
    late = (lead.first_contact_at or now) > lead.first_contact_due
    phone = crm.keys.decrypt("phone", lead.phone_enc) if lead.phone_enc else None
    return LeadView(lead.id or 0, lead.name, lead.source, MASKERS["phone"](phone) if phone else "",
                    lead.status, user, name, lead.customer_id, lead.branch_id,
                    from_fen(lead.estimated_assets_fen), lead.product_interest, lead.created_at,
                    lead.assigned_at, lead.first_contact_due, lead.first_contact_at,
                    lead.breached_at is not None or late, lead.assignment_rule)


def get_lead(crm: Crm, actor: Actor, lead_id: int) -> LeadView:
    with crm.db.read() as session:
        lead = session.scalars(select(Lead).where(Lead.id == lead_id, lead_scope(actor))).first()
        if lead is None:
            raise NotFound("sales.error.lead_not_found", id=lead_id)
        owner = session.get(Staff, lead.owner_id) if lead.owner_id else None
        return _view(crm, lead, owner.username if owner else None,
                     owner.display_name if owner else None, utcnow())


def count_waiting(crm: Crm, actor: Actor) -> int:
    """The lead area's badge: leads in scope whose first contact is still to be made."""
    from sqlalchemy import func

    with crm.db.read() as session:
        return session.scalar(select(func.count()).select_from(Lead).where(
            lead_scope(actor), Lead.first_contact_at.is_(None),  # type: ignore[union-attr]
            Lead.status.in_(OPEN))) or 0  # type: ignore[attr-defined]

"""What every KPI shares: the filter bar (period, branch, team, RM, product category), the
actor's scope as one WHERE clause over customers, the pipeline and ticket tables as light
table objects (so reporting reads them without owning them), and SQL helpers that work the
same on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Integer, String, and_, column, func, inspect, select, table
from sqlmodel import Session

from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, ValidationFailed
from crm_tui.domain.kernel.permissions import Perm, Role, customer_scope, require
from crm_tui.domain.reporting.filters import CustomFilter, custom_condition, custom_filters
from crm_tui.domain.reporting.period import Period
from crm_tui.store.models import Branch, Customer, Staff
from crm_tui.store.types import UTCDateTime

REPORTING_ROLES = (Role.RM.value, Role.SUPERVISOR.value, Role.BRANCH_HEAD.value,
                   Role.COMPLIANCE.value, Role.RISK.value)

OPPORTUNITY = table(
    "opportunity", column("id", Integer), column("customer_id", Integer),
    column("owner_id", Integer), column("stage", String), column("product_id", Integer),
    column("amount_fen", Integer), column("created_at", UTCDateTime()),
    column("stage_entered_at", UTCDateTime()), column("closed_at", UTCDateTime()),
    column("lost_reason", String))
STAGE_EVENT = table(
    "opportunity_stage_event", column("id", Integer), column("opportunity_id", Integer),
    column("from_stage", String), column("to_stage", String), column("at", UTCDateTime()))
TICKET = table(
    "ticket", column("id", Integer), column("customer_id", Integer), column("type", String),
    column("priority", String), column("state", String), column("created_at", UTCDateTime()),
    column("first_response_due", UTCDateTime()), column("resolution_due", UTCDateTime()),
    column("first_response_at", UTCDateTime()), column("resolved_at", UTCDateTime()),
    column("breached", Boolean), column("csat", Integer),
    column("first_contact_resolution", Boolean))

STAGES = ("needs", "matching", "proposal", "closing", "won")


@dataclass(frozen=True)
class KpiFilter:
    period: Period
    branch: str | None = None
    """Branch code."""
    team_id: int | None = None
    rm: str | None = None
    """RM user name."""
    category: str | None = None
    """Product category (deposit, wealth, fund, insurance, bond, structured)."""
    fields: tuple[tuple[str, str], ...] = ()
    """Custom customer fields marked filterable, as (key, value) pairs, all of which apply."""


@dataclass(frozen=True)
class Scope:
    """The filter bar resolved against the database: ids, and what the scope is called."""

    filters: KpiFilter
    branch_id: int | None
    rm_id: int | None
    label: dict[str, Any]
    """Who asked and what the filter bar narrowed to (`scope` in `crm kpi --json`)."""
    custom: tuple[CustomFilter, ...] = ()


def require_reporting(actor: Actor) -> None:
    require(actor, Perm.CUSTOMER_VIEW)
    if actor.role not in REPORTING_ROLES:
        raise ValidationFailed([FieldError("role", "reporting.error.role", {"role": actor.role})])


def resolve(crm: Crm, actor: Actor, f: KpiFilter) -> Scope:
    """Look up the filter bar's names; an unknown branch, team or RM is a field error."""
    require_reporting(actor)
    errors = []
    branch_id = rm_id = None
    with crm.db.read() as session:
        if f.branch:
            branch_id = session.scalar(select(Branch.id).where(Branch.code == f.branch.upper()))
            if branch_id is None:
                errors.append(FieldError("branch", "validation.unknown_branch", {"code": f.branch}))
        if f.rm:
            rm_id = session.scalar(select(Staff.id).where(Staff.username == f.rm))
            if rm_id is None:
                errors.append(FieldError("rm", "validation.unknown_rm", {"username": f.rm}))
        if f.team_id is not None:
            from crm_tui.store.models import Team

            if session.get(Team, f.team_id) is None:
                errors.append(FieldError("team", "reporting.error.team", {"id": f.team_id}))
    custom = custom_filters(crm, f.fields, errors)
    if errors:
        raise ValidationFailed(errors)
    return Scope(f, branch_id, rm_id, {
        "user": actor.username, "role": actor.role,
        "book": {"rm": "own", "supervisor": "team", "branch_head": "branch"}.get(actor.role, "bank"),
        "branch": f.branch.upper() if f.branch else None, "team": f.team_id, "rm": f.rm,
        "category": f.category, "fields": dict(f.fields)}, custom)


def customers_where(actor: Actor, scope: Scope) -> ColumnElement[bool]:
    """Customers the actor may see, narrowed by the filter bar (never widened by it)."""
    conds: list[ColumnElement[bool]] = [customer_scope(actor)]
    if scope.branch_id is not None:
        conds.append(Customer.branch_id == scope.branch_id)  # type: ignore[arg-type]
    if scope.rm_id is not None:
        conds.append(Customer.rm_id == scope.rm_id)  # type: ignore[arg-type]
    if scope.filters.team_id is not None:
        members = select(Staff.id).where(Staff.team_id == scope.filters.team_id)
        conds.append(Customer.rm_id.in_(members))  # type: ignore[union-attr]
    conds += [custom_condition(c) for c in scope.custom]
    return and_(*conds)


def has_table(session: Session, name: str) -> bool:
    return inspect(session.connection()).has_table(name)


def minutes_between(session: Session, later: Any, earlier: Any) -> Any:
    """later − earlier in minutes, as SQL (julianday on SQLite, epoch on PostgreSQL)."""
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 1440.0
    return func.extract("epoch", later - earlier) / 60.0


def rate(numerator: int | None, denominator: int | None) -> float | None:
    """A fraction from 0 to 1, or None when nothing was there to count."""
    if not denominator:
        return None
    return round(float(numerator or 0) / float(denominator), 4)


def money(fen: int | Decimal | None) -> str:
    """Yuan as a decimal string with two places."""
    value = Decimal(int(fen or 0)) / 100
    return str(value.quantize(Decimal("0.01")))


def avg(value: Any, places: int = 1) -> float | None:
    return None if value is None else round(float(value), places)

"""What a report can group by, filter on and measure, per entity.

Three sources, one list per entity: the built-in fields declared in the field registry
(customers, leads, opportunities, tickets, and a product's fields for what was sold), a few
the report engine adds (a customer's tier, an opportunity's stage, a ticket's resolution
time), and the entity's active custom fields from the form engine, read generically from any
entity whose table has the `custom` JSON column. Each field knows its SQL expression and the
joins it needs; sensitive fields are never offered. Nothing here runs a query.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Boolean, Date, and_, cast, func, inspect, true
from sqlalchemy.orm import aliased

from crm_tui.domain.forms.registry import custom_fields
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.fields import FieldSpec, fields_of
from crm_tui.domain.kernel.permissions import customer_scope, sees_every_branch
from crm_tui.domain.policy.reporting_policy import ReportingPolicy
from crm_tui.store.models import Branch, Customer, Holding, Product, Staff, Team, Trade
from crm_tui.store.models_sales import Lead, Opportunity
from crm_tui.store.models_service import Ticket
from crm_tui.store.types import UTCDateTime

Kind = Literal["text", "choice", "bool", "int", "money", "decimal", "date", "datetime", "duration"]
NUMERIC = frozenset({"int", "money", "decimal", "duration"})
"""Kinds a sum or an average can be taken of."""
GROUPABLE = frozenset({"text", "choice", "bool", "int", "date", "datetime"})
BUCKETS = ("day", "month", "quarter", "year")
DECIMAL_SCALE = 10_000
"""Custom decimals are summed as integers of 1/10,000 so no float reaches a total."""


@dataclass(frozen=True)
class SqlCtx:
    """What an expression may depend on: the backend, the display zone, the tiers."""

    dialect: str
    tz: ZoneInfo
    tiers: ReportingPolicy

    @property
    def offset_minutes(self) -> int:
        from datetime import UTC, datetime

        return int((datetime.now(UTC).astimezone(self.tz).utcoffset() or 0).total_seconds() // 60)


Expr = Callable[[SqlCtx], Any]


@dataclass(frozen=True)
class ReportField:
    key: str
    kind: Kind
    expr: Expr
    label_key: str | None = None
    labels: tuple[str, str] | None = None
    """(zh, en) of a custom field, whose label is not in the catalog."""
    joins: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    choice_prefix: str | None = None
    measure: Expr | None = None
    """The summed expression when it differs (a custom decimal, scaled to an integer)."""
    scale: int = 1
    """Summed value / scale = the real value (fen: 100; a custom decimal: 10,000)."""
    custom: bool = False

    def label(self, translate: Callable[..., str]) -> str:
        if self.labels is not None:
            return self.labels[1] if translate("lang.code") == "en" else self.labels[0]
        return translate(self.label_key or self.key)

    def summed(self, ctx: SqlCtx) -> Any:
        return (self.measure or self.expr)(ctx)


@dataclass(frozen=True)
class EntityDef:
    name: str
    label_key: str
    model: Any
    scope: Callable[[Actor], Any]
    customer_join: Literal["self", "inner", "outer"]
    joins: dict[str, tuple[Any, Any]]
    builtin: tuple[ReportField, ...]
    custom_entity: str | None = None
    """The form engine's entity name, for custom fields (when the table has `custom`)."""
    base_where: Callable[[], Any] | None = None
    """Rows that are not records of the entity at all (an emptied holding)."""


def _col(c: Any) -> Expr:
    return lambda ctx: c


# One alias per joined table and role, shared by every entity that declares the join.
_BRANCH = aliased(Branch, name="r_branch")
_STAFF = aliased(Staff, name="r_staff")
_TEAM = aliased(Team, name="r_team")
_PRODUCT = aliased(Product, name="r_product")
_CBRANCH = aliased(Branch, name="r_cbranch")
_CRM = aliased(Staff, name="r_crm")


def tier_expr(ctx: SqlCtx) -> Any:
    from crm_tui.domain.reporting.value_kpis import tier_of

    return tier_of(ctx.tiers)


def _kind(spec: FieldSpec, column: Any) -> Kind | None:
    if spec.sensitive or spec.type in ("long_text", "multi_choice", "email", "phone"):
        return None
    if spec.type == "money":
        return "money"
    if isinstance(column.type, UTCDateTime):
        return "datetime"
    if isinstance(column.type, Date):
        return "date"
    if isinstance(column.type, Boolean) or spec.type == "bool":
        return "bool"
    if spec.type == "number":
        return "int"
    if spec.type == "decimal":
        return None  # the catalogue's rates and returns are not report measures
    return "choice" if spec.choices else "text"


_PERSONAL = frozenset({"id", "name", "address", "subject"})
"""Never a dimension: a report is an aggregate, not a list of people or of their words."""


def registry_fields(entity: str, model: Any, *, prefix: str = "", joins: tuple[str, ...] = (),
                    joined: dict[str, tuple[str, Any]] | None = None,
                    skip: frozenset[str] = _PERSONAL,
                    only: frozenset[str] | None = None) -> tuple[ReportField, ...]:
    """The registry's declarations of `entity` that map onto a column of `model` (by key,
    `<key>_fen` for money, or the export column), or onto a joined table (`joined`)."""
    out = []
    columns = inspect(model).mapper.local_table.c
    for spec in fields_of(entity):
        if spec.key in skip or (only is not None and spec.key not in only):
            continue
        need = joins
        if joined and spec.key in joined:
            join, column = joined[spec.key]
            need = (*joins, join)
        else:
            names = (f"{spec.key}_fen", spec.key) if spec.type == "money" else (
                spec.key, spec.export_column or "")
            name = next((n for n in names if n and n in columns), None)
            if name is None:
                continue
            column = getattr(model, name)
        kind = _kind(spec, column.expression if hasattr(column, "expression") else column)
        if kind is None:
            continue
        key = spec.key if not prefix or spec.key.startswith(prefix) else prefix + spec.key
        out.append(ReportField(key, kind, _col(column), spec.label_key, joins=need,
                               choices=spec.choices, choice_prefix=spec.choice_prefix,
                               scale=100 if kind == "money" else 1))
    return tuple(out)


def _extra(key: str, kind: Kind, column: Any, *, label: str | None = None,
           joins: tuple[str, ...] = (), choices: tuple[str, ...] = (),
           prefix: str | None = None) -> ReportField:
    expr = column if callable(column) else _col(column)
    return ReportField(key, kind, expr, label or f"reports.field.{key}", joins=joins,
                       choices=choices, choice_prefix=prefix, scale=100 if kind == "money" else 1)


def minutes(later: Any, earlier: Any) -> Expr:
    def build(ctx: SqlCtx) -> Any:
        if ctx.dialect == "sqlite":
            return (func.julianday(later) - func.julianday(earlier)) * 1440.0
        return func.extract("epoch", later - earlier) / 60.0
    return build


def _hours(later: Any, earlier: Any) -> Expr:
    m = minutes(later, earlier)
    return lambda ctx: m(ctx) / 60.0


def _product_fields(joins: tuple[str, ...] = ("product",)) -> tuple[ReportField, ...]:
    """What was sold: the catalogue's code, name, category, asset class, risk, currency."""
    keep = frozenset({"product_code", "product_name", "category", "asset_class", "product_risk",
                      "currency", "issuer"})
    return registry_fields("product", _PRODUCT, prefix="product_", joins=joins, only=keep)


def _customer_fields() -> tuple[ReportField, ...]:
    """A linked record's customer: her tier, branch, RM, type and risk level."""
    return (
        _extra("customer_tier", "choice", tier_expr, joins=("customer",), prefix="reporting.tier"),
        _extra("customer_branch", "text", _CBRANCH.code, joins=("customer", "cbranch")),
        _extra("customer_rm", "text", _CRM.username, joins=("customer", "crm")),
        *registry_fields("customer", Customer, prefix="customer_", joins=("customer",),
                         only=frozenset({"kind", "risk_level", "gender", "status"})),
    )


def _linked_scope(actor: Actor) -> Any:
    return customer_scope(actor)


def _lead_scope(actor: Actor) -> Any:
    from crm_tui.domain.sales.leads import lead_scope

    # compliance and risk read every branch's figures, leads included; a lead linked to a
    # restricted (PIPL) customer leaves reports as it leaves lists
    book = true() if sees_every_branch(actor) else lead_scope(actor)
    return and_(book, Lead.customer_id.is_(None)  # type: ignore[union-attr]
                | Customer.restricted.is_(False))  # type: ignore[attr-defined]


_CUSTOMER_JOINS = {"cbranch": (_CBRANCH, _CBRANCH.id == Customer.branch_id),
                   "crm": (_CRM, _CRM.id == Customer.rm_id)}


def _customers() -> EntityDef:
    joined = {"branch_code": ("branch", _BRANCH.code), "rm_username": ("rm", _STAFF.username)}
    return EntityDef(
        "customers", "reports.entity.customers", Customer, customer_scope, "self",
        {"branch": (_BRANCH, _BRANCH.id == Customer.branch_id),
         "rm": (_STAFF, _STAFF.id == Customer.rm_id)},
        (*registry_fields("customer", Customer, joined=joined),
         _extra("tier", "choice", tier_expr, prefix="reporting.tier"),
         _extra("churned_at", "datetime", Customer.churned_at),
         _extra("churn_reason", "text", Customer.churn_reason)),
        custom_entity="customer")


def _opportunities() -> EntityDef:
    o = Opportunity
    from crm_tui.domain.sales.opportunities import STAGES

    return EntityDef(
        "opportunities", "reports.entity.opportunities", o, _linked_scope, "inner",
        {"branch": (_BRANCH, _BRANCH.id == o.branch_id), "owner": (_STAFF, _STAFF.id == o.owner_id),
         "team": (_TEAM, _TEAM.id == o.team_id), "product": (_PRODUCT, _PRODUCT.id == o.product_id),
         **_CUSTOMER_JOINS},
        (*registry_fields("opportunity", o, skip=_PERSONAL | {"product_code"}),
         _extra("stage", "choice", o.stage, choices=STAGES, prefix="sales.stage"),
         _extra("owner", "text", _STAFF.username, label="field.owner", joins=("owner",)),
         _extra("team", "text", _TEAM.name, label="field.team", joins=("team",)),
         _extra("branch", "text", _BRANCH.code, label="field.branch", joins=("branch",)),
         _extra("created_at", "datetime", o.created_at),
         _extra("closed_at", "datetime", o.closed_at),
         _extra("lost_reason", "text", o.lost_reason, label="field.lost_reason"),
         _extra("cycle_days", "duration", lambda ctx: minutes(o.closed_at, o.created_at)(ctx) / 1440.0),
         *_product_fields(), *_customer_fields()),
        custom_entity="opportunity")


def _tickets() -> EntityDef:
    tk = Ticket
    from crm_tui.domain.service.tickets import STATES

    return EntityDef(
        "tickets", "reports.entity.tickets", tk, _linked_scope, "inner",
        {"branch": (_BRANCH, _BRANCH.id == tk.branch_id),
         "assignee": (_STAFF, _STAFF.id == tk.assignee_id), "team": (_TEAM, _TEAM.id == tk.team_id),
         **_CUSTOMER_JOINS},
        (*registry_fields("ticket", tk),
         _extra("state", "choice", tk.state, choices=STATES, prefix="service.state",
                label="field.state"),
         _extra("queue", "text", tk.queue),
         _extra("assignee", "text", _STAFF.username, label="field.assignee", joins=("assignee",)),
         _extra("team", "text", _TEAM.name, label="field.team", joins=("team",)),
         _extra("branch", "text", _BRANCH.code, label="field.branch", joins=("branch",)),
         _extra("created_at", "datetime", tk.created_at, label="field.ticket_created_at"),
         _extra("resolved_at", "datetime", tk.resolved_at),
         _extra("breached", "bool", tk.breached),
         _extra("csat", "int", tk.csat, label="field.csat"),
         _extra("first_contact_resolution", "bool", tk.first_contact_resolution),
         _extra("first_response_minutes", "duration",
                minutes(tk.first_response_at, tk.created_at)),
         _extra("resolution_hours", "duration", _hours(tk.resolved_at, tk.created_at)),
         *_customer_fields()),
        custom_entity="ticket")


def _leads() -> EntityDef:
    ld = Lead
    statuses = ("new", "assigned", "contacted", "converted", "disqualified")
    return EntityDef(
        "leads", "reports.entity.leads", ld, _lead_scope, "outer",
        {"branch": (_BRANCH, _BRANCH.id == ld.branch_id), "owner": (_STAFF, _STAFF.id == ld.owner_id)},
        (*registry_fields("lead", ld,
                          joined={"branch_code": ("branch", _BRANCH.code)}),
         _extra("status", "choice", ld.status, choices=statuses, prefix="sales.lead_status",
                label="field.state"),
         _extra("owner", "text", _STAFF.username, label="field.owner", joins=("owner",)),
         _extra("breached", "bool", lambda ctx: ld.breached_at.is_not(None)),  # type: ignore[union-attr]
         _extra("first_contact_hours", "duration", _hours(ld.first_contact_at, ld.created_at))),
        custom_entity="lead")


def _trades() -> EntityDef:
    from crm_tui.store.models import TRADE_KINDS

    tr = Trade
    return EntityDef(
        "trades", "reports.entity.trades", tr, _linked_scope, "inner",
        {"product": (_PRODUCT, _PRODUCT.id == tr.product_id), **_CUSTOMER_JOINS},
        (_extra("kind", "choice", tr.kind, label="field.tx_kind", choices=TRADE_KINDS,
                prefix="compliance.tx_kind"),
         _extra("status", "text", tr.status, label="field.state"),
         _extra("amount", "money", tr.amount_fen, label="field.amount"),
         _extra("currency", "text", tr.currency, label="field.currency"),
         _extra("occurred_at", "datetime", tr.occurred_at, label="field.occurred_at"),
         *_product_fields(), *_customer_fields()))


def _holdings() -> EntityDef:
    h = Holding
    return EntityDef(
        "holdings", "reports.entity.holdings", h, _linked_scope, "inner",
        {"product": (_PRODUCT, _PRODUCT.id == h.product_id), **_CUSTOMER_JOINS},
        (_extra("cost", "money", h.amount_fen),
         *_product_fields(), *_customer_fields()),
        base_where=lambda: (h.units_e4 > 0) | (h.amount_fen > 0))


_BUILDERS: dict[str, Callable[[], EntityDef]] = {
    "customers": _customers, "opportunities": _opportunities, "tickets": _tickets,
    "leads": _leads, "trades": _trades, "holdings": _holdings}
ENTITIES = tuple(_BUILDERS)
_BUILT: dict[str, EntityDef] = {}


def entity_def(name: str) -> EntityDef:
    if name not in _BUILT:
        # the areas declare their fields when their module is imported
        import crm_tui.domain.customers.fields
        import crm_tui.domain.products.fields
        import crm_tui.domain.sales.fields
        import crm_tui.domain.service.ticket_fields  # noqa: F401

        _BUILT[name] = _BUILDERS[name]()
    return _BUILT[name]


def _custom_field(model: Any, f: Any) -> ReportField | None:
    """A custom field as a report field: its value read from the `custom` JSON column."""
    if f.spec.sensitive or f.spec.type == "multi_choice":
        return None
    value = model.custom[f.key]
    kind: Kind
    scale = 1
    measure: Expr | None = None
    if f.spec.type in ("text",):
        kind, expr = "text", value.as_string()
    elif f.spec.type == "choice":
        kind, expr = "choice", value.as_string()
    elif f.spec.type == "bool":
        kind, expr = "bool", value.as_boolean()
    elif f.spec.type == "date":
        kind, expr = "date", value.as_string()
    elif f.spec.type == "number":
        kind, expr = "int", value.as_integer()
    else:  # decimal, stored as a string: compared as a float, summed as scaled integers
        kind, expr, scale = "decimal", value.as_float(), DECIMAL_SCALE
        scaled = cast(func.round(value.as_float() * DECIMAL_SCALE), BigInteger)
        measure = _col(scaled)
    return ReportField(f"custom.{f.key}", kind, _col(expr), labels=(f.label_zh, f.label_en),
                       choices=f.spec.choices, measure=measure, scale=scale, custom=True)


def report_fields(crm: Crm, entity: str) -> dict[str, ReportField]:
    """Every field a report on `entity` may use, by key (built-in first, then custom)."""
    d = entity_def(entity)
    out = {f.key: f for f in d.builtin}
    if d.custom_entity and "custom" in d.model.__table__.c:
        for cf in custom_fields(crm, d.custom_entity):
            rf = _custom_field(d.model, cf)
            if rf is not None:
                out[rf.key] = rf
    return out


def customer_join(d: EntityDef) -> Any:
    """How the entity reaches its customer (for scope), or None for customers themselves."""
    if d.customer_join == "self":
        return None
    return Customer.id == d.model.customer_id

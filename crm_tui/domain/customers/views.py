"""Plain frozen dataclasses the UI renders: no ORM object ever leaves the domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class CustomerSummary:
    id: int
    name: str
    kind: str
    phone_masked: str
    risk_level: str | None
    aum: Decimal
    rm_name: str
    branch_name: str
    sort_key: str = ""  # the value results are ordered by; pass (sort_key, id) as `after`


@dataclass(frozen=True)
class KycItem:
    kind: str
    status: str  # ok | missing | expired | pending | rejected | expiring
    expires_on: date | None = None


@dataclass(frozen=True)
class KycChecklist:
    items: tuple[KycItem, ...]

    @property
    def complete(self) -> bool:
        return all(i.status in ("ok", "expiring") for i in self.items)

    @property
    def percent(self) -> int:
        if not self.items:
            return 100
        done = sum(1 for i in self.items if i.status in ("ok", "expiring"))
        return round(100 * done / len(self.items))

    @property
    def problems(self) -> tuple[KycItem, ...]:
        return tuple(i for i in self.items if i.status not in ("ok",))


@dataclass(frozen=True)
class HoldingView:
    product_code: str
    product_name: str
    category: str
    risk_level: str
    amount: Decimal
    """Market value in CNY: what AUM adds up (at cost for holdings made before issue 15)."""
    currency: str = "CNY"
    units: Decimal = Decimal(0)
    price: Decimal = Decimal(1)
    cost: Decimal = Decimal(0)
    """What was paid in, in the holding's currency."""
    value: Decimal = Decimal(0)
    """Market value in the holding's currency."""
    value_cny: Decimal | None = None
    """None when no exchange rate is loaded for the currency."""
    asset_class: str = ""
    maturity_date: date | None = None

    @property
    def gain(self) -> Decimal:
        return self.value - self.cost


@dataclass(frozen=True)
class TagView:
    id: int
    name: str
    name_en: str
    source: str  # rule | manual


@dataclass(frozen=True)
class InteractionView:
    id: int
    occurred_at: datetime
    channel: str
    staff_name: str
    subject: str
    summary: str
    next_action: str
    next_action_due: date | None


@dataclass(frozen=True)
class RelationNode:
    customer_id: int
    name: str
    kind: str  # how this node relates to its parent
    in_scope: bool
    children: tuple[RelationNode, ...] = ()


@dataclass(frozen=True)
class CustomerView:
    id: int
    kind: str
    name: str
    id_type: str
    national_id_masked: str
    phone_masked: str
    bank_account_masked: str
    email: str
    birth_date: date | None
    """None where the policy keeps it from standing beside the masked ID (see birth_year)."""
    gender: str
    address: str
    occupation: str
    annual_income: Decimal
    goals: str
    risk_level: str | None
    risk_valid_until: date | None
    risk_status: str  # valid | expiring | expired | missing
    aum: Decimal
    branch_name: str
    rm_name: str
    status: str
    version: int
    created_at: datetime
    kyc: KycChecklist
    holdings: tuple[HoldingView, ...] = ()
    tags: tuple[TagView, ...] = ()
    interactions: tuple[InteractionView, ...] = ()
    more_interactions: bool = False
    network: tuple[RelationNode, ...] = field(default_factory=tuple)
    birth_year: int | None = None
    """The birth year shown in place of the date (policy `masking.birth_date_beside_id`)."""
    change_fields: tuple[str, ...] = ()
    """The fields a change request may name (the policy's maker-checker list), read with the
    profile so the screen need not ask the policy on the UI thread."""

"""A small book for the compliance tests: customers with a complete KYC file and a valid
risk assessment in three teams, and one product per risk level."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from crm_tui.domain.customers.fields import CleanCustomer, customer_row
from crm_tui.domain.kernel.context import Crm
from crm_tui.store.models import Customer, Holding, KycDocument, Product, RiskAssessment
from crm_tui.store.types import utcnow
from tests.conftest import World, valid_id


@dataclass
class Book:
    customers: dict[str, int]  # label → id
    products: dict[str, int]  # code → id


def add_customer(crm: Crm, world: World, rm: str, name: str, level: str | None = "C3",
                 id_prefix: str = "11010119800101001", kyc: bool = True,
                 risk_valid_days: int = 200) -> int:
    actor = world[rm]
    clean = CleanCustomer(name=name, national_id=valid_id(id_prefix), phone="13800138000",
                          bank_account="6222020200112233445", risk_level=level)
    row = customer_row(crm.keys, clean, branch_id=actor.branch_id, rm_id=actor.id)
    today = date.today()
    with crm.db.write() as s:
        c = Customer(**row)
        if level:
            c.risk_valid_until = today + timedelta(days=risk_valid_days)
        s.add(c)
        s.flush()
        if kyc:
            for kind in ("id_proof", "address_proof"):
                s.add(KycDocument(customer_id=c.id, kind=kind, status="verified",
                                  expires_on=today + timedelta(days=900), verified_at=utcnow()))
        if level:
            s.add(RiskAssessment(customer_id=c.id, level=level, score=50,
                                 valid_until=today + timedelta(days=risk_valid_days)))
        return c.id or 0


def build_book(crm: Crm, world: World) -> Book:
    customers = {
        "c1": add_customer(crm, world, "rm1", "张三", "C3", "11010119800101001"),
        "c2": add_customer(crm, world, "rm1", "李四", "C1", "11010119800101002"),
        "c3": add_customer(crm, world, "rm3", "王五", "C5", "11010119800101003"),
        "c_sh": add_customer(crm, world, "rm_sh", "赵六", "C3", "31011519800101004"),
    }
    products = {}
    with crm.db.write() as s:
        for i in range(1, 6):
            p = Product(code=f"P-R{i}", name=f"理财R{i}", category="wealth", risk_level=f"R{i}")
            s.add(p)
            s.flush()
            products[p.code] = p.id or 0
        usd = Product(code="P-USD", name="美元理财", category="wealth", risk_level="R1",
                      currency="USD")
        s.add(usd)
        s.flush()
        products["P-USD"] = usd.id or 0
    return Book(customers, products)


def give_holding(crm: Crm, customer_id: int, product_id: int, fen: int) -> None:
    with crm.db.write() as s:
        s.add(Holding(customer_id=customer_id, product_id=product_id, amount_fen=fen,
                      units_e4=fen * 100))  # units at par
        c = s.get(Customer, customer_id)
        assert c is not None
        c.aum_fen += fen
        s.add(c)

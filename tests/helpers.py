"""Small builders for domain tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import count

from sqlalchemy import update

from crm_tui.domain.customers import records
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.validation import id_check_digit
from crm_tui.store.models import Customer, KycDocument, RiskAssessment
from crm_tui.store.types import utcnow

_seq = count(1000)


def new_id(birth: str = "19850612") -> str:
    first17 = f"110105{birth}{next(_seq) % 1000:03d}"
    return first17 + id_check_digit(first17)


def make_customer(crm: Crm, rm: Actor, name: str, **fields) -> int:
    raw = {"name": name, "national_id": fields.pop("national_id", None) or new_id(),
           "phone": fields.pop("phone", None) or f"139{next(_seq):08d}"}
    raw.update(fields)
    cid = records.create_customer(crm, rm, raw)
    return cid


def set_column(crm: Crm, customer_id: int, **values) -> None:
    with crm.db.write() as s:
        s.execute(update(Customer).where(Customer.id == customer_id).values(**values))


def complete_kyc(crm: Crm, customer_id: int, level: str = "C3", verifier: int | None = None,
                 today: date | None = None) -> None:
    today = today or date.today()
    with crm.db.write() as s:
        for kind in ("id_proof", "address_proof"):
            s.add(KycDocument(customer_id=customer_id, kind=kind, status="verified",
                              verified_by=verifier, verified_at=utcnow(),
                              expires_on=today + timedelta(days=900)))
        s.add(RiskAssessment(customer_id=customer_id, answers={"q1": "b"}, score=50, level=level,
                             assessed_at=datetime.now().astimezone(), valid_until=today + timedelta(days=300),
                             assessed_by=verifier))
        s.execute(update(Customer).where(Customer.id == customer_id)
                  .values(risk_level=level, risk_valid_until=today + timedelta(days=300)))

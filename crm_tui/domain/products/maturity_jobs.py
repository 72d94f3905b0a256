"""到期提醒: holdings whose product matures within one of the policy's windows (7 / 30 / 60
days by default) make a `maturity` task for the customer's RM, with the amount and a short
list of reinvestment products the customer may buy (suitability allows them outright, the
amount meets their minimum, they are on sale and do not mature first).

One task per holding, maturity date and window (the smallest window the date falls in), so
an RM hears of a maturity at 60, 30 and 7 days, and running the job twice for the same
`now` makes nothing twice (the dedupe key). Holdings are read in keyset pages, one
transaction per page."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from crm_tui.domain.compliance.suitability import check_suitability
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.validation import from_fen
from crm_tui.domain.policy.document import Policy
from crm_tui.domain.products.portfolio import suitability_inputs
from crm_tui.domain.products.valuation import HOLDING
from crm_tui.domain.workflow.tasks import create_task
from crm_tui.store.models import Customer, Product
from crm_tui.store.models_products import join_valuation, valuation_columns
from crm_tui.store.models_workflow import Task

PAGE = 500
DUE_HOUR = 9  # the task is due at 09:00 local, the day before the maturity


def dedupe_key(holding_id: int, maturity: date, window: int) -> str:
    return f"maturity:{holding_id}:{maturity.isoformat()}:{window}"


def _window(days: int, windows: list[int]) -> int | None:
    return next((w for w in sorted(windows) if days <= w), None)


def _catalogue(session: Session) -> list[tuple[Any, ...]]:
    return list(session.execute(
        select(Product.id, Product.code, Product.name, Product.risk_level, Product.currency,
               Product.asset_class, Product.min_amount_fen, Product.maturity_date)
        .where(Product.active)  # type: ignore[arg-type]
        .order_by(Product.expected_return_high_bp.desc().nulls_last(), Product.code)).all())  # type: ignore[union-attr]


def shortlist(session: Session, crm: Crm, policy: Policy, customer: Customer,
              catalogue: list[tuple[Any, ...]], *, product_id: int, asset_class: str,
              currency: str, amount_fen: int, maturity: date, today: date) -> list[str]:
    """Reinvestment codes: same asset class first, then the rest, best benchmark first."""
    kyc, valid_until = suitability_inputs(session, policy, customer, today)
    picks: list[tuple[bool, str]] = []
    for pid, code, _name, risk, cur, ac, min_fen, mat in catalogue:
        if pid == product_id or cur != currency or min_fen > amount_fen:
            continue
        if mat is not None and mat <= maturity + timedelta(days=7):
            continue
        verdict = check_suitability(policy, kyc=kyc, customer_level=customer.risk_level,
                                    valid_until=valid_until, product_risk=risk, today=today)
        if verdict.action == "allow":
            picks.append((ac != asset_class, code))
    picks.sort(key=lambda p: p[0])  # stable: keeps the benchmark order inside each group
    return [code for _, code in picks[:policy.portfolios.shortlist]]


def run_due(crm: Crm, now: datetime) -> dict[str, int]:
    today = now.astimezone(crm.tz).date()
    policy = crm.policy()
    windows = policy.portfolios.maturity_windows
    horizon = today + timedelta(days=max(windows))
    actor = system_actor("jobs")
    made = 0
    after = 0
    lp, lr, value, _cny = valuation_columns(HOLDING, today)
    base = join_valuation(
        select(HOLDING.c.id, HOLDING.c.customer_id, HOLDING.c.currency, value, Product.id,
               Product.code, Product.name, Product.asset_class, Product.maturity_date)
        .select_from(HOLDING).join(Product, Product.id == HOLDING.c.product_id)
        .join(Customer, Customer.id == HOLDING.c.customer_id), HOLDING, lp, lr
    ).where(HOLDING.c.units_e4 > 0, Product.maturity_date > today,  # type: ignore[operator]
            Product.maturity_date <= horizon, Customer.rm_id.is_not(None))  # type: ignore[union-attr, operator]
    while True:
        with crm.db.write() as session:
            rows = session.execute(base.where(HOLDING.c.id > after)
                                   .order_by(HOLDING.c.id).limit(PAGE)).all()
            if not rows:
                break
            after = rows[-1][0]
            keys = {dedupe_key(r[0], r[8], _window((r[8] - today).days, windows) or 0): r
                    for r in rows}
            existing = set(session.scalars(select(Task.dedupe_key).where(
                Task.dedupe_key.in_(list(keys)))))  # type: ignore[union-attr]
            catalogue = _catalogue(session) if len(existing) < len(keys) else []
            for key, (hid, cid, cur, fen, pid, code, name, ac, mat) in keys.items():
                if key in existing:
                    continue
                customer = session.get(Customer, cid)
                if customer is None or customer.rm_id is None:
                    continue
                days = (mat - today).days
                short = shortlist(session, crm, policy, customer, catalogue, product_id=pid,
                                  asset_class=ac, currency=cur, amount_fen=int(fen),
                                  maturity=mat, today=today)
                due_day = max(today, mat - timedelta(days=1))
                due = datetime.combine(due_day, time(DUE_HOUR), crm.tz)
                if create_task(crm.db, session, actor, owner_id=customer.rm_id, kind="maturity",
                               title_key="products.task.maturity", due_at=due,
                               params={"customer": customer.name, "product": code,
                                       "product_name": name, "date": mat.isoformat(),
                                       "days": days, "window": _window(days, windows),
                                       "amount": f"{from_fen(int(fen)):,.2f}",
                                       "currency": cur, "shortlist": short},
                               customer_id=cid, entity="holding", entity_id=hid,
                               dedupe_key=key) is not None:
                    made += 1
            if len(rows) < PAGE:
                break
    return {"maturity_tasks": made}

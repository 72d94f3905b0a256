"""A small hand-built branch for the early warnings, as of 1 October 2026 00:00 Shanghai.

With the default policy (window 90 days, so the recent window is 3 July – 1 October and
the one before 4 April – 3 July; AUM decline at 20 %; activity drop at 50 %; no contact for
90 days; weights 35/25/20/20; list from 40), worked out by hand:

- A (rm1): AUM 600,000; redeemed 400,000 and subscribed 100,000 in August, so 300,000 left
  of 900,000 at the window's start (33 % ≥ 20 %: +35); 4 interactions before, 2 trades in
  the window (2 × 100 ≤ 4 × 50: +25, exactly at the threshold); last contact 20 June
  (+20). Score 80.
- B (rm1): AUM 1,000,000; 100,000 out of 1,100,000 (9 %); activity 2 before, 3 now;
  contacted 15 September; one open complaint (+20) and one resolved. Score 20: not listed.
- C (rm1): AUM 50,000; never contacted since 2025 (+20); an open complaint (+20). Score 40.
- D (rm2): AUM 0 after redeeming all 200,000 in September (100 %: +35); nothing before
  (no drop); contacted 20 September; an open complaint (+20). Score 55.
- E (rm1): churned in August: out of every list.
- F (rm1): restricted (PIPL): out of every list, though it would score 75.
- G (rm_sh, Shanghai): never contacted, open complaint: 40, only in Shanghai's scope.
- I (BJ01, no RM): never contacted, open complaint: 40; AUM 0.
- H (rm1): dormant, holds a deposit only.

So the branch head of BJ01 sees A 80, D 55, C 40, I 40 (C before I: larger AUM).

Cross-sell (status active, relationship open, positive holdings in exactly one category):
A holds a fund and a deposit (two); B two funds (one category: fund); C a deposit; D a
fund with nothing left in it; E is churned, H dormant. So B (1,000,000), then C (50,000).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update

from crm_tui.store.models import Customer, Holding, Interaction, Product, Trade
from crm_tui.store.models_service import Ticket
from tests.helpers import make_customer

SH = ZoneInfo("Asia/Shanghai")
AS_OF = datetime(2026, 10, 1, 0, 0, tzinfo=SH)


def sh(m: int, d: int, h: int = 12) -> datetime:
    return datetime(2026, m, d, h, tzinfo=SH)


def build(crm, world) -> dict[str, int]:  # type: ignore[no-untyped-def]
    ids: dict[str, int] = {}
    for label, rm, aum in (("A", "rm1", 600_000), ("B", "rm1", 1_000_000), ("C", "rm1", 50_000),
                           ("D", "rm2", 0), ("E", "rm1", 300_000), ("F", "rm1", 700_000),
                           ("G", "rm_sh", 10_000), ("I", "rm1", 0), ("H", "rm1", 20_000)):
        ids[label] = make_customer(crm, world[rm], f"客户{label}")
        with crm.db.write() as s:
            s.execute(update(Customer).where(Customer.id == ids[label]).values(
                aum_fen=aum * 100, created_at=datetime(2025, 1, 1, tzinfo=SH),
                branch_id=world[rm].branch_id))
    with crm.db.write() as s:
        s.execute(update(Customer).where(Customer.id == ids["E"]).values(
            churned_at=sh(8, 15), churn_reason="moved_bank"))
        s.execute(update(Customer).where(Customer.id == ids["F"]).values(restricted=True))
        s.execute(update(Customer).where(Customer.id == ids["I"]).values(rm_id=None))
        s.execute(update(Customer).where(Customer.id == ids["H"]).values(status="dormant"))
        fund = Product(code="W1", name="稳健混合基金", category="fund", risk_level="R2")
        fund2 = Product(code="W3", name="指数基金", category="fund", risk_level="R3")
        deposit = Product(code="W2", name="大额存单", category="deposit", risk_level="R1")
        s.add_all([fund, fund2, deposit])
        s.flush()
        for label, kind, amount, at in (
                ("A", "redemption", 400_000, sh(8, 1)), ("A", "subscription", 100_000, sh(8, 5)),
                ("B", "redemption", 100_000, sh(8, 10)), ("D", "redemption", 200_000, sh(9, 2)),
                ("E", "redemption", 300_000, sh(8, 1)), ("F", "redemption", 700_000, sh(8, 1)),
                ("A", "subscription", 50_000, sh(3, 1))):  # the last is before both windows
            s.add(Trade(customer_id=ids[label], product_id=fund.id, kind=kind,
                        amount_fen=amount * 100, occurred_at=at, status="executed"))
        for label, at in (("A", sh(5, 1)), ("A", sh(5, 10)), ("A", sh(6, 1)), ("A", sh(6, 20)),
                          ("B", sh(5, 5)), ("B", sh(6, 5)), ("B", sh(9, 1)), ("B", sh(9, 15)),
                          ("D", sh(9, 20)), ("F", sh(4, 10)),
                          ("B", sh(10, 2))):  # after the as-of moment: not counted
            s.add(Interaction(customer_id=ids[label], channel="phone", occurred_at=at,
                              subject="回访"))
        for label, state in (("B", "in_progress"), ("B", "resolved"), ("C", "new"),
                             ("D", "waiting_customer"), ("G", "assigned"), ("I", "new"),
                             ("F", "new"), ("A", "closed")):
            s.add(Ticket(customer_id=ids[label], type="complaint", priority="normal",
                         state=state, queue="complaints", subject="投诉", created_at=sh(9, 1),
                         first_response_due=sh(9, 2), resolution_due=sh(9, 10)))
        s.add(Ticket(customer_id=ids["A"], type="inquiry", priority="normal", state="new",
                     queue="desk", subject="咨询", created_at=sh(9, 1),
                     first_response_due=sh(9, 2), resolution_due=sh(9, 10)))
        for label, product, amount in (("A", fund, 1000), ("A", deposit, 1000), ("B", fund, 1000),
                                       ("B", fund2, 1000), ("C", deposit, 1000), ("D", fund, 0),
                                       ("E", deposit, 1000), ("H", deposit, 1000)):
            s.add(Holding(customer_id=ids[label], product_id=product.id, amount_fen=amount))
    return ids

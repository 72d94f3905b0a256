"""A small hand-built book for the report engine's tests: seven customers (one restricted, one
in the other branch), opportunities, tickets, leads and trades, and two custom fields on
customers, with every figure the tests expect worked out by hand beside the data."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update

from crm_tui.domain.forms.definitions import add_field
from crm_tui.domain.kernel.actor import system_actor
from crm_tui.store.models import Customer, Product, Trade
from crm_tui.store.models_sales import Lead, Opportunity
from crm_tui.store.models_service import Ticket
from tests.helpers import make_customer

SH = ZoneInfo("Asia/Shanghai")


def sh(y: int, m: int, d: int, h: int = 12, minute: int = 0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=SH)


# label, rm, AUM (yuan), status, created, segment, score
CUSTOMERS = (
    ("A", "rm1", 40_000_000, "active", sh(2025, 3, 10), "retail", "1.25"),   # private
    ("B", "rm1", 7_000_000, "active", sh(2025, 11, 20), "retail", "2.50"),   # hnw
    ("C", "rm2", 1_000_000.5, "dormant", sh(2026, 1, 5), "sme", "0.10"),     # affluent
    ("D", "rm3", 100_000, "active", sh(2026, 2, 1), None, None),            # mass
    ("E", "rm1", 0, "active", sh(2025, 3, 10), "retail", None),             # mass, churned
    ("F", "rm_sh", 500_000, "active", sh(2026, 3, 1), "sme", "3"),          # SH01, affluent
    ("G", "rm2", 9_000_000, "active", sh(2025, 5, 5), "sme", "100"),        # restricted (PIPL)
)


def build_book(crm, world) -> dict[str, int]:
    admin = system_actor("test")
    add_field(crm, admin, "customer", "segment", type="choice", label_zh="客群", label_en="Segment",
              choices=["retail", "sme"], filterable=True)
    add_field(crm, admin, "customer", "score", type="decimal", label_zh="评分", label_en="Score")
    ids: dict[str, int] = {}
    for label, rm, aum, status, created, segment, score in CUSTOMERS:
        cid = make_customer(crm, world[rm], f"客户{label}")
        ids[label] = cid
        custom = {k: v for k, v in (("segment", segment), ("score", score)) if v is not None}
        with crm.db.write() as s:
            s.execute(update(Customer).where(Customer.id == cid).values(
                aum_fen=int(round(aum * 100)), status=status, created_at=created,
                branch_id=world[rm].branch_id, custom=custom,
                restricted=label == "G",
                churned_at=sh(2026, 8, 15) if label == "E" else None))
    with crm.db.write() as s:
        fund = Product(code="P1", name="稳健混合基金", category="fund", risk_level="R2")
        deposit = Product(code="P2", name="大额存单", category="deposit", risk_level="R1")
        s.add_all([fund, deposit])
        s.flush()
        bj = world.branches["BJ01"]
        # label, customer, owner, stage, amount (yuan), product, created, closed
        for label, cust, owner, stage, amount, product, created, closed in (
                ("O1", "A", "rm1", "won", 1_000_000, fund, sh(2026, 7, 2), sh(2026, 8, 1)),
                # closed 00:30 on 1 September in Shanghai: 31 August in UTC, September here
                ("O2", "B", "rm1", "won", 500_000, deposit, sh(2026, 8, 10), sh(2026, 9, 1, 0, 30)),
                ("O3", "C", "rm2", "lost", 300_000, fund, sh(2026, 7, 5), sh(2026, 7, 20)),
                ("O4", "D", "rm3", "proposal", 200_000, fund, sh(2026, 9, 10), None),
                ("O5", "F", "rm_sh", "won", 800_000, fund, sh(2026, 6, 1), sh(2026, 7, 15)),
                ("O6", "G", "rm2", "won", 5_000_000, fund, sh(2026, 8, 1), sh(2026, 8, 5))):
            o = Opportunity(customer_id=ids[cust], owner_id=world[owner].id, stage=stage,
                            amount_fen=amount * 100, product_id=product.id, created_at=created,
                            stage_entered_at=closed or created, closed_at=closed,
                            branch_id=world[owner].branch_id or bj,
                            team_id=world[owner].team_id)
            s.add(o)
            s.flush()
            ids[label] = o.id or 0
        # label, customer, type, priority, created, resolved, breached
        for label, cust, kind, priority, created, resolved, breached in (
                ("T1", "A", "inquiry", "normal", sh(2026, 7, 1, 10), sh(2026, 7, 1, 14), False),
                ("T2", "B", "complaint", "high", sh(2026, 8, 1, 9), sh(2026, 8, 3, 9), True),
                ("T3", "C", "inquiry", "normal", sh(2026, 9, 1, 9), None, False),
                ("T4", "F", "inquiry", "urgent", sh(2026, 7, 2, 9), sh(2026, 7, 2, 11), False),
                ("T5", "G", "complaint", "high", sh(2026, 7, 3, 9), None, True)):
            cust_branch = world["rm_sh"].branch_id if cust == "F" else bj
            tk = Ticket(customer_id=ids[cust], branch_id=cust_branch, type=kind, priority=priority,
                        state="resolved" if resolved else "new", queue="desk", subject="来电",
                        created_at=created, first_response_due=created, resolution_due=created,
                        resolved_at=resolved, breached=breached)
            s.add(tk)
            s.flush()
            ids[label] = tk.id or 0
        # leads: two of rm1's, one of rm2's, one unassigned in BJ01
        for label, owner, source, assets, created in (
                ("L1", "rm1", "web", 200_000, sh(2026, 7, 1)),
                ("L2", "rm1", "referral", 3_000_000, sh(2026, 7, 2)),
                ("L3", "rm2", "web", 50_000, sh(2026, 7, 3)),
                ("L4", None, "campaign", 0, sh(2026, 7, 4))):
            lead = Lead(source=source, name=f"线索{label}", branch_id=bj,
                        owner_id=world[owner].id if owner else None,
                        status="assigned" if owner else "new", estimated_assets_fen=assets * 100,
                        created_at=created, first_contact_due=created)
            s.add(lead)
            s.flush()
            ids[label] = lead.id or 0
        for cust, product, kind, amount, at in (
                ("A", fund, "subscription", 1_000_000, sh(2026, 8, 1)),
                ("B", deposit, "subscription", 500_000, sh(2026, 9, 1, 0, 30)),
                ("A", fund, "redemption", 100_000, sh(2026, 9, 2)),
                ("G", fund, "subscription", 7_000_000, sh(2026, 8, 2))):
            s.add(Trade(customer_id=ids[cust], product_id=product.id, kind=kind,
                        amount_fen=amount * 100, occurred_at=at, status="executed"))
    return ids

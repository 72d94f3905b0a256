"""`crm demo`: a realistic Chinese branch in an empty database, deterministic for a seed.

Two branches with teams and staff for every role; thousands of customers with valid
resident IDs, households and business networks; KYC in every state; risk assessments;
products R1–R5; holdings whose AUM follows a branch's pyramid; trades; two years of
interactions. Everything is planned in Python first (so dates hang together: `demo_plan`,
`demo_people`, `demo_book`, `demo_activity`), then written
with Core executemany in ONE transaction with ONE audit event, so a failure leaves nothing.
Then `demo_compliance` puts work in the approval inbox and the alert list, and
`demo_service` a working service desk (tickets, a complaint, reviews, the outbox), through
the domain functions staff use, each step with its own audit event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlmodel import Session

from crm_tui.demo import data as D
from crm_tui.demo.activity import ActivityPlanner
from crm_tui.demo.book import BookPlanner
from crm_tui.demo.compliance import seed_compliance
from crm_tui.demo.people import PeoplePlanner
from crm_tui.demo.plan import Plan
from crm_tui.demo.privacy import seed_privacy
from crm_tui.demo.products import seed_catalogue
from crm_tui.demo.sales import seed_sales
from crm_tui.demo.saved_reports import seed_reports
from crm_tui.demo.service import seed_service
from crm_tui.domain.admin.auth import hash_password
from crm_tui.domain.customers.fields import clean_customer, customer_row
from crm_tui.domain.customers.last_contact import refresh_last_contacts
from crm_tui.domain.customers.tags import evaluate_rule_tags
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import Blocked
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.store.models import (
    Branch,
    Customer,
    CustomerTag,
    Holding,
    Interaction,
    KycDocument,
    Product,
    Relationship,
    RiskAssessment,
    Staff,
    Tag,
    Team,
    Trade,
)

Login = tuple[str, str, str]


class _Generator(PeoplePlanner, BookPlanner, ActivityPlanner):
    """Plans customers and everything hanging off them; no database access."""

    def build(self, customers: int) -> None:
        self.showcase()
        showcased = len(self.plans)
        while len(self.plans) < customers:
            self.household(customers - len(self.plans))
        del self.plans[customers:]
        self.relations = [r for r in self.relations if r.a < customers and r.b < customers]
        for i, plan in enumerate(self.plans):
            if (i >= showcased and plan.kind == "individual" and plan.risk in ("C4", "C5")
                    and plan.risk_state != "missing" and plan.tier != "dormant"
                    and self.rng.random() < 0.12):
                plan.active_trader = True
            self.plan_risk(plan)
            self.plan_kyc(plan)
            self.plan_holdings(plan)
            self.plan_trades(plan)
            self.plan_interactions(plan)
            self.plan_tags(plan)


# -- writing ----------------------------------------------------------------------------


def _is_empty(session: Session) -> bool:
    return not (session.scalar(select(func.count()).select_from(Staff))
                or session.scalar(select(func.count()).select_from(Customer)))


def _insert_ids(session: Session, table: Any, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Executemany that hands back the new ids in row order (SQLite and PostgreSQL)."""
    if not rows:
        return []
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return [r[0] for r in session.execute(stmt, list(rows))]


def _bulk(session: Session, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(table), list(rows))


def _customer_rows(crm: Crm, plans: list[Plan], branch_ids: dict[str, int],
                   staff_ids: dict[str, int], today: date, now: datetime) -> list[dict[str, Any]]:
    rows = []
    for i, p in enumerate(plans):
        raw = {"name": p.name, "kind": p.kind, "national_id": p.national_id, "phone": p.phone,
               "bank_account": p.bank_account, "email": p.email, "gender": p.gender,
               "address": p.address, "occupation": p.occupation,
               "id_type": "business_license" if p.kind == "institutional" else "resident_id",
               "annual_income": str(p.income_yuan)}
        clean, errors = clean_customer(raw, row=i + 1, today=today)
        if clean is None:  # the generator made something the app would refuse: a bug here
            raise ValueError("; ".join(e.line() for e in errors))
        row = customer_row(crm.keys, clean, branch_id=branch_ids[p.branch], rm_id=staff_ids[p.rm])
        latest = max(p.assessments, key=lambda a: a["assessed_at"]) if p.assessments else None
        row.update(
            goals=p.goals, aum_fen=sum(f for _, f in p.holdings),
            risk_level=latest["level"] if latest else None,
            risk_valid_until=latest["valid_until"] if latest else None,
            created_at=p.since, updated_at=max(p.since, now - timedelta(days=(i * 7919) % 120)),
        )
        rows.append(row)
    return rows


def seed_demo(crm: Crm, actor: Actor, *, customers: int = 3000, password: str, seed: int = 7,
              now: datetime | None = None) -> list[Login]:
    """Fill an empty, migrated database with a demo branch; returns (username, role, name)
    for every login, all with `password`. `now` pins the clock (tests compare two runs)."""
    require(actor, Perm.STAFF_MANAGE)
    require(actor, Perm.DATA_IMPORT)
    now = now or datetime.now(UTC)
    policy = crm.policy()
    gen = _Generator(seed, now, policy)
    gen.build(max(customers, 1))
    pw_hash = hash_password(password)  # argon2 is slow on purpose: hash once, share it

    with crm.db.write() as session:
        if not _is_empty(session):
            raise Blocked("demo.not_empty")
        branch_ids = dict(zip(
            [b[0] for b in D.BRANCHES],
            _insert_ids(session, Branch.__table__,
                        [{"code": c, "name": n, "region": r} for c, n, r in D.BRANCHES]),
            strict=True))
        team_ids = dict(zip(
            [t[0] for t in D.TEAMS],
            _insert_ids(session, Team.__table__,
                        [{"name": n, "branch_id": branch_ids[b]} for n, b in D.TEAMS]),
            strict=True))
        hired = now - timedelta(days=3 * 365)
        staff_rows = [
            {"username": u, "display_name": n, "role": r, "branch_id": branch_ids.get(b or ""),
             "team_id": team_ids.get(t or ""), "password_hash": pw_hash, "active": True,
             "team_visibility": False, "failed_logins": 0, "created_at": hired}
            for u, n, r, b, t, _ in D.STAFF
        ]
        staff_ids = dict(zip([s[0] for s in D.STAFF],
                             _insert_ids(session, Staff.__table__, staff_rows), strict=True))
        product_ids = dict(zip(
            [p[0] for p in D.PRODUCTS],
            _insert_ids(session, Product.__table__,
                        [{"code": c, "name": n, "category": k, "risk_level": r, "currency": "CNY",
                          "active": True} for c, n, k, r in D.PRODUCTS]),
            strict=True))

        cust_rows = _customer_rows(crm, gen.plans, branch_ids, staff_ids, gen.today, now)
        ids = _insert_ids(session, Customer.__table__, cust_rows)

        sid = staff_ids.get
        docs, assessments, holdings, trades, touches = [], [], [], [], []
        for cid, p in zip(ids, gen.plans, strict=True):
            docs += [dict(d, customer_id=cid, verified_by=sid(d["verified_by"] or ""))
                     for d in p.docs]
            assessments += [dict(a, customer_id=cid, assessed_by=sid(a["assessed_by"]))
                            for a in p.assessments]
            holdings += [{"customer_id": cid, "product_id": product_ids[code], "amount_fen": fen,
                          "units_e4": fen * 100, "currency": "CNY", "updated_at": now}
                         for code, fen in p.holdings]
            for t in p.trades:
                trades.append({
                    "customer_id": cid, "product_id": product_ids.get(t["product"] or ""),
                    "kind": t["kind"], "amount_fen": t["amount_fen"], "currency": t["currency"],
                    "occurred_at": t["occurred_at"], "status": t["status"],
                    "staff_id": sid(t["staff"] or ""), "external_ref": f"DEMO{len(trades) + 1:09d}",
                })
            touches += [{"customer_id": cid, "staff_id": sid(x["staff"] or ""),
                         "channel": x["channel"], "occurred_at": x["occurred_at"],
                         "subject": x["subject"], "summary": x["summary"],
                         "next_action": x["next_action"], "next_action_due": x["next_action_due"],
                         "created_at": x["occurred_at"]} for x in p.touches]
        _bulk(session, KycDocument.__table__, docs)
        _bulk(session, RiskAssessment.__table__, assessments)
        _bulk(session, Holding.__table__, holdings)
        catalogue = seed_catalogue(session, gen.today, seed)  # prices, rates; AUM revalued
        _bulk(session, Trade.__table__, trades)
        touches.sort(key=lambda x: (x["occurred_at"], x["customer_id"]))
        _bulk(session, Interaction.__table__, touches)
        refresh_last_contacts(session)
        _bulk(session, Relationship.__table__, [
            {"customer_id": ids[r.a], "related_id": ids[r.b], "kind": r.kind, "note": r.note}
            for r in gen.relations])

        tag_ids = dict(zip(
            [t[0] for t in D.MANUAL_TAGS],
            _insert_ids(session, Tag.__table__,
                        [{"name": n, "name_en": e, "kind": "manual"} for n, e in D.MANUAL_TAGS]),
            strict=True))
        links = [{"customer_id": cid, "tag_id": tag_ids[name], "source": "manual",
                  "added_by": staff_ids[p.rm], "added_at": max(p.since, now - timedelta(days=90))}
                 for cid, p in zip(ids, gen.plans, strict=True) for name in p.manual_tags]
        _bulk(session, CustomerTag.__table__, links)
        rule_counts = evaluate_rule_tags(session, policy)

        counts = {
            "seed": seed, "branches": len(branch_ids), "staff": len(staff_ids),
            "customers": len(ids), "kyc_documents": len(docs),
            "risk_assessments": len(assessments), "products": len(product_ids),
            "holdings": len(holdings), "trades": len(trades), "interactions": len(touches),
            "relationships": len(gen.relations), "manual_tags": len(links),
            "rule_tags": rule_counts, "catalogue": catalogue,
        }
        audit.record(crm.db, session, actor, "demo.seed", "database", "", None, counts)
    seed_compliance(crm, actor, now)
    seed_sales(crm, actor, now)
    seed_service(crm, actor, now)
    seed_privacy(crm, actor, now)
    seed_reports(crm, actor)
    from crm_tui.domain.kernel.seals import seal_all

    seal_all(crm.db)  # the demo rows went in through Core: seal them as the product wrote them
    return [(u, r, n) for u, n, r, *_ in D.STAFF]

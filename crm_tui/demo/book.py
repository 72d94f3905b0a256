"""Demo book: risk assessments, KYC documents, holdings and trades for each planned customer."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from crm_tui.demo import data as D
from crm_tui.demo.plan import DATED_DOCS, RISK_RANK, Plan, PlannerBase


class BookPlanner(PlannerBase):
    """Dates every fact so it falls after the customer joined (or moves the joining back)."""

    def _earlier(self, plan: Plan, when: datetime) -> None:
        """A fact dated before the customer joined moves the joining date back."""
        if when < plan.since:
            plan.since = when - timedelta(days=self.rng.randint(1, 30))

    def plan_risk(self, plan: Plan) -> None:
        if plan.risk_state == "missing" or plan.risk is None:
            return
        validity = self.policy.risk_assessment.validity_days
        warn = self.policy.risk_assessment.expiry_warning_days
        offset = {"valid": (warn + 2, validity - 1), "expiring": (1, max(1, warn - 2)),
                  "expired": (-500, -1)}[plan.risk_state]
        valid_until = self.today + timedelta(days=self.rng.randint(*offset))
        assessed = self.at_local(valid_until - timedelta(days=validity))
        history = [(assessed, valid_until, plan.risk)]
        for _ in range(self.rng.choice((0, 0, 1, 2))):
            assessed = assessed - timedelta(days=validity + self.rng.randint(0, 60))
            level = plan.risk if self.rng.random() < 0.7 else self.rng.choice(tuple(RISK_RANK))
            history.append((assessed, assessed.date() + timedelta(days=validity), level))
        for when, until, level in reversed(history):
            self._earlier(plan, when)
            plan.assessments.append(self._assessment(plan, when, until, level))

    def _assessment(self, plan: Plan, when: datetime, until: date, level: str) -> dict[str, Any]:
        rank = RISK_RANK[level]
        answers = {q: min(5, max(1, rank + self.rng.choice((-1, 0, 0, 1)))) for q in D.RISK_QUESTIONS}
        score = {1: 12, 2: 28, 3: 45, 4: 66, 5: 86}[rank] + self.rng.randint(-3, 3)
        return {"answers": answers, "score": score, "level": level, "assessed_at": when,
                "valid_until": until, "assessed_by": plan.rm}

    def plan_kyc(self, plan: Plan) -> None:
        warn = self.policy.risk_assessment.expiry_warning_days
        for kind, state in plan.kyc.items():
            if state == "missing":
                continue
            validity = self.policy.kyc.validity_days.get(kind, 3650)  # type: ignore[call-overload]
            if state == "pending":
                when = self.at_local(self.today - timedelta(days=self.rng.randint(0, 20)))
                self._earlier(plan, when)
                plan.docs.append(self._doc(kind, "pending", when, None, None, plan))
                continue
            if state == "rejected":
                when = self.at_local(self.today - timedelta(days=self.rng.randint(3, 90)))
                self._earlier(plan, when)
                plan.docs.append(self._doc(kind, "rejected", when, None, None, plan))
                continue
            span = {"ok": (warn + 5, min(3000, validity - 5)), "expiring": (1, max(1, warn - 2)),
                    "expired": (-400, -1)}[state]
            expiry = self.today + timedelta(days=self.rng.randint(*span))
            if kind in DATED_DOCS:
                verified = self.at_local(self.today - timedelta(days=self.rng.randint(30, 1500)))
                if verified.date() >= expiry:
                    verified = self.at_local(expiry - timedelta(days=self.rng.randint(30, 400)))
                plan.docs.append(self._doc(kind, "verified", verified, verified, expiry, plan))
            else:
                verified = self.at_local(expiry - timedelta(days=validity))
                plan.docs.append(self._doc(kind, "verified", verified, verified, None, plan))
            self._earlier(plan, plan.docs[-1]["uploaded_at"])
            if state == "ok" and kind in DATED_DOCS and self.rng.random() < 0.15:
                old = verified - timedelta(days=self.rng.randint(3000, 3600))
                if old.date() > (plan.birth or date(1900, 1, 1)) + timedelta(days=16 * 365):
                    self._earlier(plan, old)
                    plan.docs.append(self._doc(kind, "verified", old, old,
                                               verified.date() - timedelta(days=20), plan))

    def _doc(self, kind: str, status: str, when: datetime, verified: datetime | None,
             expires: date | None, plan: Plan) -> dict[str, Any]:
        uploaded = when - timedelta(days=self.rng.randint(0, 3), minutes=self.rng.randint(0, 300))
        note_key = "verified" if status == "verified" else status
        return {"kind": kind, "status": status, "expires_on": expires,
                "verified_by": plan.rm if verified else None, "verified_at": verified,
                "uploaded_at": uploaded, "note": self.rng.choice(D.KYC_NOTES[note_key])}

    def plan_holdings(self, plan: Plan) -> None:
        if plan.aum_yuan <= 0:
            return
        choices = self.suitable(plan)
        deposits = [p for p in choices if p[2] == "deposit"]
        others = [p for p in choices if p[2] != "deposit"]
        if plan.kind == "individual" and plan.birth and self.today.year - plan.birth.year >= 65:
            others = [p for p in others if p[2] in ("wealth", "bond", "insurance", "structured")]
        n = {"mass": (1, 3), "affluent": (2, 5), "hnw": (3, 7), "private": (5, 9)}[plan.tier]
        if plan.active_trader:
            n = (4, 7)
        count = self.rng.randint(*n)
        picked = [self.rng.choice(deposits)]
        pool = [p for p in others if p[2] == "fund"] if plan.active_trader else others
        pool = pool + [p for p in deposits if p is not picked[0]]
        self.rng.shuffle(pool)
        picked += pool[: count - 1]
        weights = [self.rng.random() ** 1.5 + 0.05 for _ in picked]
        total = sum(weights)
        remaining = plan.aum_yuan * 100
        for i, (product, w) in enumerate(zip(picked, weights, strict=True)):
            fen = remaining if i == len(picked) - 1 else int(plan.aum_yuan * w / total) * 100
            fen = max(0, min(fen, remaining))
            remaining -= fen
            if fen > 0:
                plan.holdings.append((product[0], fen))
        plan.aum_yuan = sum(f for _, f in plan.holdings) // 100

    def plan_trades(self, plan: Plan) -> None:
        start = max(plan.since, self.now - timedelta(days=3 * 365))
        span = max(1, (self.now - start).days - 7)
        for code, fen in plan.holdings:
            if code.startswith("DP"):
                continue
            bought = self.at_local((start + timedelta(days=self.rng.randint(0, span))).date())
            plan.trades.append(self._trade(plan, code, "subscription", fen, bought))
            if self.rng.random() < 0.3:
                later = bought + timedelta(days=self.rng.randint(1, 200))
                if later < self.now - timedelta(hours=1):
                    plan.trades.append(self._trade(plan, code, "redemption",
                                                   max(100, fen // self.rng.randint(3, 10)), later))
        if plan.active_trader:
            funds = [c for c, _ in plan.holdings if c.startswith("FD")] or ["FD0001"]
            for _ in range(self.rng.randint(22, 40)):
                when = self.at_local(self.today - timedelta(days=self.rng.randint(1, 80)), 9, 15)
                kind = self.rng.choice(("subscription", "redemption"))
                amount = self.rng.randint(20, 500) * 100_00
                plan.trades.append(self._trade(plan, self.rng.choice(funds), kind, amount, when))
        if plan.tier in ("hnw", "private") and self.rng.random() < 0.15:
            for _ in range(self.rng.randint(1, 3)):
                when = self.at_local(self.today - timedelta(days=self.rng.randint(5, 600)))
                trade = self._trade(plan, None, "cross_border",
                                    self.rng.randint(5, 50) * 10_000_00, when)
                trade["currency"] = self.rng.choice(("USD", "HKD"))
                plan.trades.append(trade)

    def _trade(self, plan: Plan, code: str | None, kind: str, fen: int,
               when: datetime) -> dict[str, Any]:
        status = "executed" if self.rng.random() < 0.97 else "cancelled"
        return {"product": code, "kind": kind, "amount_fen": fen, "currency": "CNY",
                "occurred_at": when, "status": status,
                "staff": plan.rm if self.rng.random() < 0.6 else None}

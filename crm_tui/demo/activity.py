"""Demo activity: two years of interactions by channel, and the RM's manual tags."""

from __future__ import annotations

from datetime import timedelta

from crm_tui.demo import data as D
from crm_tui.demo.plan import SHANGHAI, Plan, PlannerBase


class ActivityPlanner(PlannerBase):
    """Contacts in the channels a customer's age suggests, and tags an RM would set."""

    def plan_interactions(self, plan: Plan) -> None:
        if not plan.interactions:
            low, high = {"dormant": (0, 3), "mass": (1, 6), "affluent": (4, 12), "hnw": (10, 24),
                         "private": (18, 36)}[plan.tier]
            plan.interactions = self.rng.randint(low, high)
        age = self.today.year - plan.birth.year if plan.birth else 45
        band = "young" if age < 36 else "senior" if age >= 62 else "middle"
        weights = D.CHANNELS_BY_AGE[band]
        start = max(plan.since, self.now - timedelta(days=730))
        span = max(0, (self.now - start).days)
        names = [self._product_name(c) for c, _ in plan.holdings] or [
            p[1] for p in self.suitable(plan)]
        service = "svc1" if plan.branch == "BJ01" else "svc2"
        for _ in range(plan.interactions):
            channel = self.rng.choices(D.CHANNELS, weights)[0]
            subject, summary, action, due_days = self.rng.choice(D.INTERACTIONS[channel])
            day = (start + timedelta(days=self.rng.randint(0, span))).astimezone(SHANGHAI).date()
            hours = {"branch": (9, 17), "phone": (9, 19), "wechat": (8, 22), "email": (9, 18)}
            when = self.at_local(day, *hours.get(channel, (7, 23)))
            if when > self.now:
                when = self.now - timedelta(minutes=self.rng.randint(5, 600))
            local = when.astimezone(SHANGHAI)
            amount = max(1, int(plan.aum_yuan * self.rng.uniform(0.05, 0.4)) // 10_000)
            text = summary.format(product=self.rng.choice(names), amount=amount,
                                  rm=plan.rm, month=local.month)
            if channel in ("mobile_app", "web"):
                staff = None if self.rng.random() < 0.6 else service
            elif channel == "phone" and self.rng.random() < 0.2:
                staff = service
            else:
                staff = plan.rm
            plan.touches.append({
                "channel": channel, "occurred_at": when, "subject": subject, "summary": text,
                "next_action": action,
                "next_action_due": local.date() + timedelta(days=due_days) if action else None,
                "staff": staff,
            })

    def plan_tags(self, plan: Plan) -> None:
        if plan.kind != "individual" or plan.manual_tags:
            return
        age = self.today.year - plan.birth.year if plan.birth else 45
        r = self.rng.random
        if plan.occupation == "企业主" and r() < 0.7:
            plan.manual_tags.append("企业主")
        if age >= 60 and r() < 0.5:
            plan.manual_tags.append("养老客群")
        if age < 60 and plan.occupation != "企业主" and r() < 0.2:
            plan.manual_tags.append("代发工资客户")
        if plan.tier in ("hnw", "private") and r() < 0.5:
            plan.manual_tags.append("重点维护")
        if 35 <= age <= 52 and r() < 0.15:
            plan.manual_tags.append("子女教育")
        if plan.national_id[:2] not in ("11", "31") and age < 40 and r() < 0.3:
            plan.manual_tags.append("新市民")
        if plan.tier != "dormant" and r() < 0.03:
            plan.manual_tags.append("潜在流失")

    def _product_name(self, code: str) -> str:
        return next(p[1] for p in self.products if p[0] == code)

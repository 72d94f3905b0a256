"""Helpers for the sales tests: a policy with given assignment rules, products, clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from crm_tui.domain.kernel.actor import system_actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.policy.document import activate_policy, default_policy_text, parse_policy
from crm_tui.store.models import Product, Staff

# A fixed clock for a test run: the last full hour (approval requests must not have expired).
T0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)


def use_rules(crm: Crm, rules_toml: str, extra: str = "") -> None:
    """The default policy with its assignment rules replaced by `rules_toml`."""
    text = default_policy_text()
    head, _, _ = text.partition("[[sales.assignment_rules]]")
    body = head + extra + "\n" + rules_toml
    parse_policy(body)
    with crm.db.write() as s:
        activate_policy(crm.db, s, system_actor("test"), body)
    crm.forget_policy()


def disable(crm: Crm, username: str) -> None:
    with crm.db.write() as s:
        s.execute(update(Staff).where(Staff.username == username).values(active=False))


def add_product(crm: Crm, code: str, risk: str, **kw) -> int:
    with crm.db.write() as s:
        p = Product(code=code, name=kw.pop("name", f"产品{code}"), category="wealth",
                    risk_level=risk, disclosure=kw.pop("disclosure", f"{code} 风险揭示：本金可能亏损。"),
                    **kw)
        s.add(p)
        s.flush()
        return p.id or 0

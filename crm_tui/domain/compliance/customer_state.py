"""What blocks work on a customer, for the profile to show before anyone presses a key:
a freeze (with its alert), the open risk alerts, and the fields with a sensitive change
waiting for approval (submitting another one would be refused)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from crm_tui.domain.compliance.alerts import freezing_alert
from crm_tui.domain.customers.scope import load_in_scope
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.store.models_compliance import ApprovalRequest, RiskAlert


@dataclass(frozen=True)
class BlockingState:
    frozen_rule_key: str | None
    """Catalog key of the freezing alert's kind, None when not frozen."""
    frozen_since: datetime | None
    open_alerts: int
    pending_fields: tuple[str, ...]


def blocking_state(crm: Crm, actor: Actor, customer_id: int) -> BlockingState:
    require(actor, Perm.CUSTOMER_VIEW)
    with crm.db.read() as session:
        load_in_scope(session, actor, customer_id)
        alert = freezing_alert(session, customer_id)
        open_alerts = session.scalar(
            select(func.count()).select_from(RiskAlert)
            .where(RiskAlert.customer_id == customer_id, RiskAlert.status == "open")) or 0
        pending = session.scalars(
            select(ApprovalRequest).where(ApprovalRequest.customer_id == customer_id,
                                          ApprovalRequest.kind == "sensitive_change",
                                          ApprovalRequest.status == "pending")
            .limit(20)).all()
        fields = tuple(sorted({str(r.payload.get("data", {}).get("field", ""))
                               for r in pending} - {""}))
    return BlockingState(f"compliance.alert_kind.{alert.kind}" if alert else None,
                         alert.raised_at if alert else None, open_alerts, fields)

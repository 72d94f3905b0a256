"""The one maker-checker handler shape for a change to a versioned record.

A request names the record and the version the maker saw; approving writes the waiting
value with the optimistic-lock UPDATE (`kernel.versioned`) and its audit event in the same
transaction, or closes the request as stale when the record moved on. A frozen customer
(risk alert) blocks applying. Subclasses say only which table, which columns and what
the audit event records.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from crm_tui.domain.compliance.alerts import ensure_not_frozen
from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import Blocked
from crm_tui.domain.kernel.versioned import save_versioned
from crm_tui.store.models_compliance import ApprovalRequest


class RecordChangeHandler:
    """Approval kind handler for "set these columns of one record at the version seen"."""

    def model(self, req: ApprovalRequest) -> Any:
        raise NotImplementedError

    def record_id(self, req: ApprovalRequest) -> int:
        return int(req.target_id)

    def columns(self, crm: Crm, session: Session, req: ApprovalRequest) -> dict[str, Any]:
        """The column values the approved change writes."""
        raise NotImplementedError

    def audited(self, req: ApprovalRequest) -> tuple[str, str, dict[str, Any], dict[str, Any]]:
        """(action, entity, before, after) of the audit event, masked as the request shows."""
        raise NotImplementedError

    def current_version(self, crm: Crm, session: Session, req: ApprovalRequest) -> str:
        model = self.model(req)
        return str(session.scalar(select(model.version).where(model.id == self.record_id(req))))

    def check_applicable(self, crm: Crm, session: Session, req: ApprovalRequest,
                         now: datetime) -> None:
        if req.customer_id is not None:
            ensure_not_frozen(session, req.customer_id, crm.tz)

    def apply(self, crm: Crm, session: Session, req: ApprovalRequest, actor: Actor,
              now: datetime) -> str:
        model, record_id = self.model(req), self.record_id(req)
        expected = int(req.target_version)
        values = self.columns(crm, session, req)
        if "updated_at" in model.__table__.columns:
            values["updated_at"] = now
        version = save_versioned(session, model, record_id, expected, values,
                                 lambda: Blocked("compliance.error.stale", id=req.id))
        action, entity, before, after = self.audited(req)
        audit.record(crm.db, session, actor, action, entity, record_id,
                     {**before, "version": expected},
                     {**after, "version": version, "request": req.id, "maker": req.maker_name})
        return f"{entity}:{record_id}:v{version}"

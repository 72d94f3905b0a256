"""Sales targets: a branch head (or `crm targets set`) gives an RM or a team a
subscription target for a period; attainment compares it with what their customers bought."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, PermissionDenied, ValidationFailed
from crm_tui.domain.kernel.validation import BadValue, parse_amount, to_fen
from crm_tui.domain.reporting.period import parse_period
from crm_tui.store.models import Staff, Team
from crm_tui.store.models_reporting import SalesTarget
from crm_tui.store.types import utcnow

MAX_TARGET = Decimal("9999999999999.99")


def set_target(crm: Crm, actor: Actor, period: str, amount: str | Decimal, *,
               rm: str | None = None, team: str | None = None) -> int:
    """Set (or replace) one target; the branch head of that branch, or the system (CLI)."""
    if actor.role != "branch_head" and not (actor.id is None and actor.role == "admin"):
        raise PermissionDenied(role=actor.role, action="target.set")
    label = parse_period(period, crm.tz).label
    errors = []
    if (rm is None) == (team is None):
        errors.append(FieldError("rm", "reporting.error.target_who", {}))
    try:
        value = parse_amount(str(amount), allow_zero=False)
        if value > MAX_TARGET:
            raise BadValue("validation.max", max=MAX_TARGET)
    except BadValue as exc:
        errors.append(FieldError("amount", exc.key, exc.params))
        value = Decimal(0)
    if errors:
        raise ValidationFailed(errors)
    with crm.db.write() as session:
        staff_id = team_id = None
        branch = None
        if rm is not None:
            row = session.scalars(select(Staff).where(Staff.username == rm)).first()
            if row is None or row.role not in ("rm", "supervisor"):
                raise ValidationFailed([FieldError("rm", "validation.unknown_rm", {"username": rm})])
            staff_id, branch = row.id, row.branch_id
        else:
            row_t = session.scalars(select(Team).where(Team.name == team)).first()
            if row_t is None:
                raise ValidationFailed([FieldError("team", "validation.unknown_team", {"name": team})])
            team_id, branch = row_t.id, row_t.branch_id
        if actor.role == "branch_head" and branch != actor.branch_id:
            raise PermissionDenied(role=actor.role, action="target.set")
        existing = session.scalars(select(SalesTarget).where(
            SalesTarget.period == label, SalesTarget.staff_id == staff_id,
            SalesTarget.team_id == team_id)).first()
        before = {"amount": existing.amount_fen} if existing else None
        target = existing or SalesTarget(period=label, staff_id=staff_id, team_id=team_id,
                                         amount_fen=0, set_by=actor.username)
        target.amount_fen, target.set_by, target.set_at = to_fen(value), actor.username, utcnow()
        session.add(target)
        session.flush()
        audit.record(crm.db, session, actor, "target.set", "sales_target", target.id, before,
                     {"period": label, "rm": rm, "team": team, "amount": target.amount_fen})
        return target.id or 0

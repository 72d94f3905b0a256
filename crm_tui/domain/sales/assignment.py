"""Lead assignment: the policy's ordered rules pick a named RM or a team member.

A team hands leads out round-robin (a cursor per team in the database, so every process
shares it and the counts of its active RMs never differ by more than one) or to the RM
with the fewest open leads. Disabled staff get nothing; a rule whose RM or team has no
active RM is skipped, and a lead no rule takes waits in the unassigned queue.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from crm_tui.domain.policy.document import Policy
from crm_tui.domain.policy.sales_policy import AssignmentRule
from crm_tui.store.models import Branch, Staff, Team
from crm_tui.store.models_sales import AssignmentCursor, Lead

OPEN_LEAD = ("assigned", "contacted")


def matches(rule: AssignmentRule, *, branch_code: str | None, region: str, assets: Decimal,
            interest: str, source: str) -> bool:
    """Every condition the rule sets holds for the lead (an unset condition holds)."""
    if rule.branch is not None and rule.branch != branch_code:
        return False
    if rule.region is not None and rule.region != region:
        return False
    if rule.min_assets is not None and assets < rule.min_assets:
        return False
    if rule.max_assets is not None and assets > rule.max_assets:
        return False
    if rule.product_interest and interest not in rule.product_interest:
        return False
    return not (rule.sources and source not in rule.sources)


def _team_id(session: Session, rule: AssignmentRule) -> int | None:
    q = select(Team.id).where(Team.name == rule.team)
    if rule.branch is not None:
        q = q.join(Branch, Branch.id == Team.branch_id).where(Branch.code == rule.branch)
    return session.scalar(q.order_by(Team.id).limit(1))


def _active_rms(team_id: int):  # type: ignore[no-untyped-def]
    return select(Staff.id).where(Staff.team_id == team_id, Staff.active,  # type: ignore[arg-type]
                                  Staff.role == "rm")


def _round_robin(session: Session, team_id: int) -> int | None:
    cursor = session.scalars(select(AssignmentCursor).where(AssignmentCursor.team_id == team_id)
                             .with_for_update()).first()
    if cursor is None:
        try:
            with session.begin_nested():
                session.add(AssignmentCursor(team_id=team_id, last_staff_id=0))
        except IntegrityError:
            pass  # another process created it first
        cursor = session.scalars(select(AssignmentCursor).where(
            AssignmentCursor.team_id == team_id).with_for_update()).one()
    members = _active_rms(team_id).order_by(Staff.id)
    nxt = session.scalar(members.where(Staff.id > cursor.last_staff_id).limit(1))  # type: ignore[operator]
    if nxt is None:
        nxt = session.scalar(members.limit(1))
    if nxt is None:
        return None
    cursor.last_staff_id = nxt
    session.add(cursor)
    return nxt


def _least_loaded(session: Session, team_id: int) -> int | None:
    load = (select(Lead.owner_id, func.count().label("n")).where(Lead.status.in_(OPEN_LEAD))  # type: ignore[attr-defined]
            .group_by(Lead.owner_id).subquery())
    q = (select(Staff.id).outerjoin(load, load.c.owner_id == Staff.id)
         .where(Staff.id.in_(_active_rms(team_id)))  # type: ignore[union-attr]
         .order_by(func.coalesce(load.c.n, 0), Staff.id).limit(1))
    return session.scalar(q)


def act(session: Session, rule: AssignmentRule) -> int | None:
    """The staff id the rule's action picks now, or None (nobody active)."""
    if rule.rm is not None:
        return session.scalar(select(Staff.id).where(Staff.username == rule.rm, Staff.active,  # type: ignore[arg-type]
                                                     Staff.role == "rm"))
    team_id = _team_id(session, rule)
    if team_id is None:
        return None
    if rule.method == "least_loaded":
        return _least_loaded(session, team_id)
    return _round_robin(session, team_id)


def choose_owner(session: Session, policy: Policy, *, branch_code: str | None, region: str,
                 assets: Decimal, interest: str, source: str) -> tuple[int | None, str]:
    """(staff id, rule name) of the first rule that matches and finds someone, else (None, "")."""
    for rule in policy.sales.assignment_rules:
        if not matches(rule, branch_code=branch_code, region=region, assets=assets,
                       interest=interest, source=source):
            continue
        staff_id = act(session, rule)
        if staff_id is not None:
            return staff_id, rule.name
    return None, ""

"""The bank's structure: branches (网点) and the teams inside them. Admin only, audited."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select

from crm_tui.domain.kernel import audit
from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.context import Crm
from crm_tui.domain.kernel.errors import FieldError, ValidationFailed
from crm_tui.domain.kernel.permissions import Perm, require
from crm_tui.domain.kernel.validation import BadValue, normalise_text, parse_name
from crm_tui.store.models import Branch, Staff, Team

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,19}$")


@dataclass(frozen=True)
class BranchView:
    id: int
    code: str
    name: str
    region: str
    teams: int
    staff: int


@dataclass(frozen=True)
class TeamView:
    id: int
    name: str
    branch_code: str
    staff: int


def _name(field: str, raw: str, limit: int) -> str:
    value = normalise_text(raw)
    if not value:
        raise ValidationFailed([FieldError(field, "validation.required", {})])
    if len(value) > limit:
        raise ValidationFailed([FieldError(field, "validation.too_long", {"max": limit})])
    return value


def add_branch(crm: Crm, actor: Actor, code: str, name: str, region: str = "") -> int:
    require(actor, Perm.STAFF_MANAGE)
    code = normalise_text(code).upper()
    if not _CODE.match(code):
        raise ValidationFailed([FieldError("branch", "org.error.code_format", {"code": code})])
    name = _name("name", name, 100)
    try:
        region = parse_name(region, max_length=50, required=False)
    except BadValue as exc:
        raise ValidationFailed([FieldError("region", exc.key, exc.params)]) from exc
    with crm.db.write() as session:
        if session.scalar(select(Branch.id).where(Branch.code == code)) is not None:
            raise ValidationFailed([FieldError("branch", "org.error.branch_taken", {"code": code})])
        branch = Branch(code=code, name=name, region=region)
        session.add(branch)
        session.flush()
        audit.record(crm.db, session, actor, "branch.add", "branch", branch.id, None,
                     {"code": code, "name": name, "region": region})
        return branch.id or 0


def add_team(crm: Crm, actor: Actor, name: str, branch_code: str) -> int:
    require(actor, Perm.STAFF_MANAGE)
    name = _name("team", name, 100)
    code = normalise_text(branch_code).upper()
    with crm.db.write() as session:
        branch_id = session.scalar(select(Branch.id).where(Branch.code == code))
        if branch_id is None:
            raise ValidationFailed([FieldError("branch", "validation.unknown_branch", {"code": code})])
        taken = session.scalar(select(Team.id).where(Team.branch_id == branch_id, Team.name == name))
        if taken is not None:
            raise ValidationFailed([FieldError("team", "org.error.team_taken",
                                               {"name": name, "code": code})])
        team = Team(name=name, branch_id=branch_id)
        session.add(team)
        session.flush()
        audit.record(crm.db, session, actor, "team.add", "team", team.id, None,
                     {"name": name, "branch": code})
        return team.id or 0


def list_branches(crm: Crm, actor: Actor) -> list[BranchView]:
    require(actor, Perm.STAFF_MANAGE)
    teams = select(func.count()).select_from(Team).where(Team.branch_id == Branch.id).scalar_subquery()
    staff = select(func.count()).select_from(Staff).where(Staff.branch_id == Branch.id).scalar_subquery()
    with crm.db.read() as session:
        rows = session.execute(
            select(Branch.id, Branch.code, Branch.name, Branch.region, teams, staff)
            .order_by(Branch.code)
        ).all()
    return [BranchView(*r) for r in rows]


def list_teams(crm: Crm, actor: Actor, branch_code: str | None = None) -> list[TeamView]:
    require(actor, Perm.STAFF_MANAGE)
    staff = select(func.count()).select_from(Staff).where(Staff.team_id == Team.id).scalar_subquery()
    q = (select(Team.id, Team.name, Branch.code, staff)
         .join(Branch, Branch.id == Team.branch_id).order_by(Branch.code, Team.name))
    if branch_code:
        q = q.where(Branch.code == normalise_text(branch_code).upper())
    with crm.db.read() as session:
        rows = session.execute(q).all()
    return [TeamView(*r) for r in rows]

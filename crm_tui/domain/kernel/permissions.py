"""Roles, the permission matrix and record scope. The UI only hides what these refuse."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ColumnElement, false, select, true

from crm_tui.domain.kernel.actor import Actor
from crm_tui.domain.kernel.errors import PermissionDenied
from crm_tui.store.models import Customer, Staff


class Role(StrEnum):
    RM = "rm"
    SUPERVISOR = "supervisor"
    BRANCH_HEAD = "branch_head"
    COMPLIANCE = "compliance"
    RISK = "risk"
    SERVICE = "service"
    ADMIN = "admin"


class Perm(StrEnum):
    CUSTOMER_VIEW = "customer.view"
    CUSTOMER_CREATE = "customer.create"
    CUSTOMER_EDIT = "customer.edit"
    SENSITIVE_REVEAL = "sensitive.reveal"
    INTERACTION_LOG = "interaction.log"
    TAG_MANAGE = "tag.manage"
    KYC_VERIFY = "kyc.verify"
    STAFF_MANAGE = "staff.manage"
    POLICY_APPLY = "policy.apply"
    AUDIT_VIEW = "audit.view"
    DATA_IMPORT = "data.import"
    DATA_EXPORT = "data.export"
    BACKUP = "backup"
    # compliance (issue 3)
    SENSITIVE_CHANGE_REQUEST = "sensitive.request"  # ask for a maker-checker change
    TRANSACTION_RECORD = "transaction.record"
    APPROVAL_DECIDE = "approval.decide"  # the level's role and scope decide the rest
    ALERT_VIEW = "alert.view"
    ALERT_CLEAR = "alert.clear"
    FEED_IMPORT = "feed.import"
    JOBS_RUN = "jobs.run"
    FIELDS_MANAGE = "fields.manage"  # the form engine: define custom fields


_FRONT = {Perm.CUSTOMER_VIEW, Perm.CUSTOMER_EDIT, Perm.INTERACTION_LOG, Perm.TAG_MANAGE,
          Perm.SENSITIVE_REVEAL, Perm.CUSTOMER_CREATE, Perm.SENSITIVE_CHANGE_REQUEST,
          Perm.TRANSACTION_RECORD}

# POLICY_APPLY lets admin *propose* a policy; it takes effect when compliance approves.
# ALERT_VIEW for admin serves `crm alerts list`; alert views hide names from roles
# without CUSTOMER_VIEW.
MATRIX: dict[Role, frozenset[Perm]] = {
    Role.RM: frozenset(_FRONT),
    Role.SUPERVISOR: frozenset(_FRONT | {Perm.KYC_VERIFY, Perm.APPROVAL_DECIDE}),
    Role.BRANCH_HEAD: frozenset(_FRONT | {Perm.KYC_VERIFY, Perm.DATA_EXPORT,
                                          Perm.APPROVAL_DECIDE}),
    Role.COMPLIANCE: frozenset({Perm.CUSTOMER_VIEW, Perm.SENSITIVE_REVEAL, Perm.KYC_VERIFY,
                                Perm.AUDIT_VIEW, Perm.APPROVAL_DECIDE, Perm.ALERT_VIEW}),
    Role.RISK: frozenset({Perm.CUSTOMER_VIEW, Perm.SENSITIVE_REVEAL, Perm.AUDIT_VIEW,
                          Perm.APPROVAL_DECIDE, Perm.ALERT_VIEW, Perm.ALERT_CLEAR}),
    Role.SERVICE: frozenset({Perm.CUSTOMER_VIEW, Perm.INTERACTION_LOG}),
    Role.ADMIN: frozenset({Perm.STAFF_MANAGE, Perm.POLICY_APPLY, Perm.AUDIT_VIEW,
                           Perm.DATA_IMPORT, Perm.DATA_EXPORT, Perm.BACKUP, Perm.ALERT_VIEW,
                           Perm.FEED_IMPORT, Perm.JOBS_RUN, Perm.FIELDS_MANAGE}),
}

ROLES = tuple(r.value for r in Role)


def can(actor: Actor, perm: Perm) -> bool:
    try:
        return perm in MATRIX[Role(actor.role)]
    except ValueError:
        return False


def require(actor: Actor, perm: Perm) -> None:
    if not can(actor, perm):
        raise PermissionDenied(role=actor.role, action=perm.value)


def sees_every_branch(actor: Actor) -> bool:
    """Compliance and HQ risk look across the whole bank."""
    return actor.role in (Role.COMPLIANCE.value, Role.RISK.value)


def customer_scope(actor: Actor) -> ColumnElement[bool]:
    """The WHERE clause that limits customers to the actor's book.

    rm: her own book (plus her team's if granted); supervisor: the team's;
    branch_head and service: the branch's; compliance and risk: every branch; admin: none.
    """
    role = Role(actor.role) if actor.role in ROLES else None
    team_members = select(Staff.id).where(Staff.team_id == actor.team_id)
    if role is Role.RM:
        if actor.team_visibility and actor.team_id is not None:
            return Customer.rm_id.in_(team_members)  # type: ignore[union-attr]
        return Customer.rm_id == actor.id  # type: ignore[return-value]
    if role is Role.SUPERVISOR:
        if actor.team_id is None:
            return Customer.rm_id == actor.id  # type: ignore[return-value]
        return Customer.rm_id.in_(team_members)  # type: ignore[union-attr]
    if role in (Role.BRANCH_HEAD, Role.SERVICE):
        return Customer.branch_id == actor.branch_id  # type: ignore[return-value]
    if role in (Role.COMPLIANCE, Role.RISK):
        return true()
    return false()

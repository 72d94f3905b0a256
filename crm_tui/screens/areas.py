"""The work areas the main screen offers, in one list.

To add an area (say an approval inbox with a count badge): write its pane in its own
module under `screens/`, then append an `Area` here. The main screen builds the
navigation, the function-key binding, the footer entry and the badge refresh from this
list; nothing else needs to change. A pane whose work changes its own count (an
approval cleared) asks for a fresh figure with `self.screen.refresh_badges()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.widget import Widget

    from crm_tui.domain.kernel.actor import Actor
    from crm_tui.domain.kernel.context import Crm


@dataclass(frozen=True)
class Area:
    id: str
    title_key: str
    """Catalog key of the name shown in the navigation and the footer."""
    key: str
    """The key that jumps straight to it."""
    pane: Callable[[], Widget]
    """Builds the area's pane; import inside it so start-up stays lean."""
    allowed: Callable[[Actor], bool]
    """Whether the actor's role may use the area at all (the domain still checks)."""
    badge: Callable[[Crm, Actor], int | None] | None = None
    """A count shown next to the name, computed in a worker and refreshed periodically."""
    in_footer: bool = True
    """Whether the footer lists its key too; the navigation always shows it. The footer is
    one line, so a late area that would push the lock and sign-out keys off stays out."""


def _customers_pane() -> Widget:
    from crm_tui.screens.customer_search import CustomerSearchPane

    return CustomerSearchPane()


def _may_view_customers(actor: Actor) -> bool:
    from crm_tui.domain.kernel.permissions import Perm, can

    return can(actor, Perm.CUSTOMER_VIEW)


def _book_size(crm: Crm, actor: Actor) -> int | None:
    from crm_tui.domain.customers.scope import count_in_scope

    return count_in_scope(crm, actor)


def _approvals_pane() -> Widget:
    from crm_tui.screens.approval_inbox import ApprovalInboxPane

    return ApprovalInboxPane()


def _may_use_approvals(actor: Actor) -> bool:
    """Deciders see their inbox; makers see their own requests there."""
    from crm_tui.domain.kernel.permissions import Perm, can

    return can(actor, Perm.APPROVAL_DECIDE) or can(actor, Perm.SENSITIVE_CHANGE_REQUEST)


def _inbox_count(crm: Crm, actor: Actor) -> int | None:
    from crm_tui.domain.compliance.approval_views import inbox_count

    return inbox_count(crm, actor)


def _alerts_pane() -> Widget:
    from crm_tui.screens.alert_list import AlertListPane

    return AlertListPane()


def _may_view_alerts(actor: Actor) -> bool:
    """Risk and compliance: they see alerts and the customers behind them."""
    from crm_tui.domain.kernel.permissions import Perm, can

    return can(actor, Perm.ALERT_VIEW) and can(actor, Perm.CUSTOMER_VIEW)


def _open_alerts(crm: Crm, actor: Actor) -> int | None:
    from crm_tui.domain.compliance.alerts import count_open

    return count_open(crm, actor)


def _products_pane() -> Widget:
    from crm_tui.screens.products_admin import ProductsAdminPane

    return ProductsAdminPane()


def _may_manage_products(actor: Actor) -> bool:
    from crm_tui.domain.kernel.permissions import Perm, can

    return can(actor, Perm.PRODUCT_MANAGE)


def _portfolio_lists_pane() -> Widget:
    from crm_tui.screens.products_lists import PortfolioListsPane

    return PortfolioListsPane()


def _works_a_book(actor: Actor) -> bool:
    """RMs, supervisors and branch heads: the roles that keep customers' portfolios."""
    from crm_tui.domain.kernel.permissions import Perm, can

    return can(actor, Perm.TRANSACTION_RECORD)


def _privacy_pane() -> Widget:
    from crm_tui.screens.privacy_area import PrivacyRequestsPane

    return PrivacyRequestsPane()


def _may_handle_privacy(actor: Actor) -> bool:
    """Compliance answers customers' personal-information requests."""
    from crm_tui.domain.kernel.permissions import Perm, can

    return can(actor, Perm.PRIVACY_HANDLE)


def _open_privacy_requests(crm: Crm, actor: Actor) -> int | None:
    from crm_tui.domain.privacy.requests import count_open

    return count_open(crm, actor)


def _pipeline_pane() -> Widget:
    from crm_tui.screens.pipeline_board import PipelineBoardPane

    return PipelineBoardPane()


def _leads_pane() -> Widget:
    from crm_tui.screens.leads_list import LeadListPane

    return LeadListPane()


def _works_a_branch_book(actor: Actor) -> bool:
    """RMs, supervisors and branch heads: they work leads and the pipeline, and read the
    KPI figures of their own scope."""
    return actor.role in ("rm", "supervisor", "branch_head")


def _open_leads(crm: Crm, actor: Actor) -> int | None:
    from crm_tui.domain.sales.leads import count_waiting

    return count_waiting(crm, actor)


def _notifications_pane() -> Widget:
    from crm_tui.screens.notifications import NotificationsPane

    return NotificationsPane()


def _has_inbox(actor: Actor) -> bool:
    """Everyone signed in who works cases; the admin's work is the `crm` command."""
    return actor.id is not None and actor.role != "admin"


def _unread(crm: Crm, actor: Actor) -> int | None:
    from crm_tui.domain.workflow.notifications import unread_count

    return unread_count(crm, actor)


def _my_day_pane() -> Widget:
    from crm_tui.screens.my_day import MyDayPane

    return MyDayPane()


def _has_tasks(actor: Actor) -> bool:
    """People whose work arrives as tasks (RMs, their supervisors, branch heads, the desk)."""
    return actor.role in ("rm", "supervisor", "branch_head", "service")


def _due_today(crm: Crm, actor: Actor) -> int | None:
    from crm_tui.domain.service.reviews import count_due_today

    return count_due_today(crm, actor)


def _tickets_pane() -> Widget:
    from crm_tui.screens.tickets import TicketQueuePane

    return TicketQueuePane()


def _may_work_tickets(actor: Actor) -> bool:
    return actor.role in ("rm", "supervisor", "branch_head", "service", "compliance")


def _my_open_tickets(crm: Crm, actor: Actor) -> int | None:
    from crm_tui.domain.service.queue import count_mine

    return count_mine(crm, actor)


def _fields_pane() -> Widget:
    from crm_tui.screens.fields_admin import FieldsAdminPane

    return FieldsAdminPane()


def _may_manage_fields(actor: Actor) -> bool:
    from crm_tui.domain.kernel.permissions import Perm, can

    return can(actor, Perm.FIELDS_MANAGE)


def _kpi_pane() -> Widget:
    from crm_tui.screens.kpi import KpiPane

    return KpiPane()


def _reports_pane() -> Widget:
    from crm_tui.screens.report_list import ReportsPane

    return ReportsPane()


def _reads_figures(actor: Actor) -> bool:
    """Whoever reads KPI figures runs and defines reports (each in her own scope)."""
    from crm_tui.domain.reporting.base import REPORTING_ROLES

    return actor.role in REPORTING_ROLES


AREAS: list[Area] = [
    # My day comes first for everyone whose work arrives as tasks: it is their home.
    Area("my_day", "tui.area.my_day", "f8", _my_day_pane, _has_tasks, _due_today),
    Area("customers", "tui.area.customers", "f2", _customers_pane, _may_view_customers, _book_size),
    Area("approvals", "tui.compliance.area.approvals", "f3", _approvals_pane, _may_use_approvals,
         _inbox_count),
    Area("alerts", "tui.compliance.area.alerts", "f4", _alerts_pane, _may_view_alerts,
         _open_alerts),
    Area("pipeline", "tui.pipeline.area", "f5", _pipeline_pane, _works_a_branch_book),
    Area("leads", "tui.leads.area", "f6", _leads_pane, _works_a_branch_book, _open_leads),
    Area("notifications", "tui.notify.area", "f9", _notifications_pane, _has_inbox, _unread),
    Area("tickets", "tui.area.tickets", "f7", _tickets_pane, _may_work_tickets, _my_open_tickets),
    Area("fields", "tui.forms.area", "f10", _fields_pane, _may_manage_fields),
    Area("kpi", "tui.kpi.area", "f10", _kpi_pane, _works_a_branch_book),
    # every function key is taken: ctrl+r ("reports") opens saved reports for every reader
    Area("reports", "tui.reports.area", "ctrl+r", _reports_pane, _reads_figures, in_footer=False),
    # f12 is the admin's; the book roles never hold PRODUCT_MANAGE, so nobody sees both.
    Area("products", "products.area.catalogue", "f12", _products_pane, _may_manage_products),
    Area("portfolios", "products.area.lists", "f12", _portfolio_lists_pane, _works_a_book),
    Area("privacy", "tui.privacy.area", "f11", _privacy_pane, _may_handle_privacy,
         _open_privacy_requests),
]

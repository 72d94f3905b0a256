"""Command-palette commands (Ctrl+P), in the style of Posting's and Dolphie's providers.

"Open customer…" searches the book as you type (the query runs in a thread, so the
palette stays responsive); the other commands depend on where the user is and who she is:
"Log interaction…" only while a customer profile is open; the approval inbox and the risk
alerts only for roles whose navigation has them; "Approve selected…" / "Reject selected…"
only for a role that decides, while a request is open or highlighted in her inbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from crm_tui.i18n import render, t
from crm_tui.widgets.formatting import money
from crm_tui.widgets.session import failure_text

if TYPE_CHECKING:
    from crm_tui.domain.customers.views import CustomerSummary

MAX_CUSTOMER_HITS = 8
Command = tuple[str, str, Callable[[], Any]]


async def _show_area(app: Any, area_id: str) -> None:
    """Back to the main screen (closing profiles and requests on top), showing `area_id`."""
    from crm_tui.screens.main import MainScreen

    while len(app.screen_stack) > 2 and not isinstance(app.screen, MainScreen):
        await app.pop_screen()
    if isinstance(app.screen, MainScreen):
        app.screen.show_area(area_id, focus=True)


class CrmCommands(Provider):
    def _commands(self) -> list[Command]:
        """(title, help, callback) for every command that makes sense right now."""
        from crm_tui.screens.profile import ProfileScreen

        app: Any = self.app
        out: list[Command] = [
            (t("tui.palette.open_customer"), t("tui.palette.open_customer_help"), app.action_search),
            (t("tui.palette.search"), t("tui.palette.search_help"), app.action_search),
        ]
        out += self._compliance_commands()
        if isinstance(self.screen, ProfileScreen):
            out.append((t("tui.palette.log_interaction", name=self.screen.view.name
                          if self.screen.view else ""), t("tui.palette.log_interaction_help"),
                        self.screen.action_log_interaction))
        out += [
            (t("tui.settings.language_zh"), t("tui.settings.language_help"),
             partial(app.action_set_language, "zh_CN")),
            (t("tui.settings.language_en"), t("tui.settings.language_help"),
             partial(app.action_set_language, "en")),
            (t("tui.palette.lock"), t("tui.palette.lock_help"), app.action_lock),
            (t("tui.palette.logout"), t("tui.palette.logout_help"), app.action_logout),
            (t("tui.palette.quit"), t("tui.palette.quit_help"), app.action_quit),
        ]
        return out

    def _compliance_commands(self) -> list[Command]:
        """The inbox and the alerts for roles whose navigation offers them (the areas ask
        `permissions.can`); approve / reject for deciders with a request in front of them."""
        from crm_tui.domain.kernel.permissions import Perm, can
        from crm_tui.screens.areas import AREAS

        app: Any = self.app
        actor = app.actor
        if actor is None:
            return []
        areas = {a.id for a in AREAS if a.allowed(actor)}
        out: list[Command] = []
        if "approvals" in areas:
            out.append((t("tui.compliance.palette.inbox"), t("tui.compliance.palette.inbox_help"),
                        partial(_show_area, app, "approvals")))
        target = self._decision_target() if can(actor, Perm.APPROVAL_DECIDE) else None
        if target is not None:
            about, approve, reject = target
            out.append((t("tui.compliance.palette.approve"), about, approve))
            out.append((t("tui.compliance.palette.reject"), about, reject))
        if "alerts" in areas:
            out.append((t("tui.compliance.palette.alerts"), t("tui.compliance.palette.alerts_help"),
                        partial(_show_area, app, "alerts")))
        return out

    def _decision_target(self) -> tuple[str, Callable[[], Any], Callable[[], Any]] | None:
        """(what, approve, reject) for the request open on screen, or the one highlighted in
        the inbox's "to decide" list; None when there is nothing to decide here."""
        from crm_tui.screens.approval_detail import ApprovalDetailScreen
        from crm_tui.screens.approval_inbox import ApprovalInboxPane
        from crm_tui.screens.main import MainScreen

        screen = self.screen
        if isinstance(screen, ApprovalDetailScreen):
            d = screen.detail
            if d is None or not d.can_decide:
                return None
            return (f"#{d.request.id} {render(d.request.summary)}", screen.action_approve,
                    screen.action_reject)
        if not isinstance(screen, MainScreen):
            return None
        panes = [p for p in screen.query(ApprovalInboxPane) if p.display]
        row = panes[0].selected_to_decide() if panes else None
        if row is None:
            return None
        return f"#{row.id} {render(row.summary)}", panes[0].action_approve, panes[0].action_reject

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
        for customer in await self._customers(query):
            label = t("tui.palette.open_named", name=customer.name)
            detail = " · ".join(p for p in (customer.phone_masked, money(customer.aum),
                                            customer.rm_name, customer.branch_name) if p)
            yield Hit(0.9, label, partial(self._open, customer.id), text=label, help=detail)

    async def _customers(self, query: str) -> list[CustomerSummary]:
        app: Any = self.app
        if app.session is None or not query.strip():
            return []
        from crm_tui.domain.customers.search import search_customers

        try:
            return await asyncio.to_thread(search_customers, app.crm, app.session.actor,
                                           query.strip(), limit=MAX_CUSTOMER_HITS)
        except Exception as exc:  # the commands still show; the reason goes to the log
            failure_text(self.app, exc)
            return []

    def _open(self, customer_id: int) -> None:
        self.app.open_customer(customer_id)  # type: ignore[attr-defined]

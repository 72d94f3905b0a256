"""Command-palette commands (Ctrl+P), in the style of Posting's and Dolphie's providers.

"Open customer…" searches the book as you type (the query runs in a thread, so the
palette stays responsive); the other commands depend on where the user is: "Log
interaction…" only while a customer profile is open.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from crm_tui.i18n import t
from crm_tui.widgets.formatting import money
from crm_tui.widgets.session import failure_text

if TYPE_CHECKING:
    from crm_tui.domain.views import CustomerSummary

MAX_CUSTOMER_HITS = 8


class CrmCommands(Provider):
    def _commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        """(title, help, callback) for every command that makes sense right now."""
        from crm_tui.screens.profile import ProfileScreen

        app: Any = self.app
        out: list[tuple[str, str, Callable[[], Any]]] = [
            (t("tui.palette.open_customer"), t("tui.palette.open_customer_help"), app.action_search),
            (t("tui.palette.search"), t("tui.palette.search_help"), app.action_search),
        ]
        if isinstance(self.screen, ProfileScreen):
            out.append((t("tui.palette.log_interaction", name=self.screen.view.name
                          if self.screen.view else ""), t("tui.palette.log_interaction_help"),
                        self.screen.action_log_interaction))
        out += [
            (t("tui.palette.lock"), t("tui.palette.lock_help"), app.action_lock),
            (t("tui.palette.logout"), t("tui.palette.logout_help"), app.action_logout),
            (t("tui.palette.quit"), t("tui.palette.quit_help"), app.action_quit),
        ]
        return out

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
        from crm_tui.domain.customers import search_customers

        try:
            return await asyncio.to_thread(search_customers, app.crm, app.session.actor,
                                           query.strip(), limit=MAX_CUSTOMER_HITS)
        except Exception as exc:  # the commands still show; the reason goes to the log
            failure_text(self.app, exc)
            return []

    def _open(self, customer_id: int) -> None:
        self.app.open_customer(customer_id)  # type: ignore[attr-defined]

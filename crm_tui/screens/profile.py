"""The customer 360° screen: identity, KYC, risk, AUM and holdings, tags, interactions
and the relationship network — read by `domain.customers.get_profile` in a worker.

Everything that changes data (tags here; interactions, edits and reveals in their
dialogs) is a domain call in a worker whose outcome comes back as a message.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static, TabbedContent, TabPane

from crm_tui.i18n import t
from crm_tui.widgets.allocation_panel import AllocationPanel
from crm_tui.widgets.bindings import TranslatedFooter
from crm_tui.widgets.custom_fields_panel import CustomFieldsPanel
from crm_tui.widgets.domain_call import DomainCalls
from crm_tui.widgets.footer import Footer
from crm_tui.widgets.holdings_table import HoldingsTable
from crm_tui.widgets.identity_panel import IdentityPanel
from crm_tui.widgets.interaction_list import InteractionList
from crm_tui.widgets.kyc_checklist import KycPanel
from crm_tui.widgets.masked_value import MaskedValue
from crm_tui.widgets.profile_summary import ProfileSummary
from crm_tui.widgets.recent_interactions import RecentInteractions
from crm_tui.widgets.relationship_tree import RelationshipTree
from crm_tui.widgets.session import UsesCrm
from crm_tui.widgets.status_bar import StatusBar
from crm_tui.widgets.status_line import SaysOnLine
from crm_tui.widgets.tag_list import TagList

if TYPE_CHECKING:
    from crm_tui.domain.compliance.customer_state import BlockingState
    from crm_tui.domain.customers.views import CustomerView, InteractionView

TABS = ("overview", "holdings", "interactions", "network", "allocation")
INTERACTION_PAGE = 20
# Which permission each action needs: the footer hides what the domain would refuse.
ACTION_PERMS = {"log_interaction": "interaction.log", "edit": "customer.edit",
                "edit_custom": "customer.edit", "new_opportunity": "customer.edit",
                "reveal": "sensitive.reveal", "add_tag": "tag.manage",
                "request_change": "sensitive.request", "record_transaction": "transaction.record",
                "privacy_request": "privacy.request", "consents": "customer.view"}


class ProfileScreen(TranslatedFooter, UsesCrm, DomainCalls, SaysOnLine, Screen[None]):
    MESSAGE_LINE = "#profile-message"
    CSS_PATH = "profile.tcss"
    BINDINGS = [
        # Footer order is priority order: at 80 columns the last ones are cut, so the
        # trade (b) comes early and reload (r) is not shown.
        Binding("escape", "back", "tui.key.back", id="profile-back"),
        Binding("b", "record_transaction", "tui.compliance.key.record_transaction",
                id="record-transaction"),
        Binding("i", "log_interaction", "tui.key.log_interaction", id="log-interaction"),
        Binding("s", "request_change", "tui.compliance.key.request_change", id="request-change"),
        Binding("e", "edit", "tui.key.edit", id="edit-customer"),
        Binding("t", "add_tag", "tui.key.add_tag", id="add-tag"),
        Binding("v", "reveal", "tui.key.reveal", id="reveal-sensitive"),
        Binding("r", "reload", "tui.key.reload", show=False, id="reload-profile"),
        Binding("p", "privacy_request", "tui.privacy.key.request", id="privacy-request"),
        Binding("c", "consents", "tui.privacy.key.consents", id="consents"),
        Binding("n", "new_ticket", "tui.service.key.new_ticket", id="new-ticket"),
        Binding("u", "edit_custom", "tui.forms.key_edit_custom", id="edit-custom-fields"),
        Binding("g", "propose_rebalancing", "rebalance.key.propose", id="rebalance-propose"),
        Binding("o", "new_opportunity", "formstui.key.new_opportunity", show=False,
                id="profile-new-opportunity"),
        *(Binding(str(n), f"tab('{tab}')", show=False, id=f"profile-tab-{tab}")
          for n, tab in enumerate(TABS, 1)),
    ]

    def __init__(self, customer_id: int) -> None:
        super().__init__(classes="profile")
        self.customer_id = customer_id
        self.view: CustomerView | None = None

    @property
    def day(self) -> date:
        return self.today or datetime.now(self.crm.tz).date()

    def compose(self) -> ComposeResult:
        yield StatusBar(self.host.session, t("tui.profile.context"))  # type: ignore[arg-type]
        yield ProfileSummary(id="profile-summary")
        yield Static("", id="profile-banner", markup=False)
        with TabbedContent(id="profile-tabs", initial="tab-overview"):
            with TabPane(t("tui.profile.tab.overview"), id="tab-overview"):
                with VerticalScroll(id="overview"):
                    with Horizontal(id="overview-top"):
                        yield IdentityPanel(id="identity")
                        with Vertical(id="overview-side"):
                            yield KycPanel(id="kyc")
                            yield TagList(id="tags")
                    yield RecentInteractions(id="recent")
                    yield CustomFieldsPanel(self.customer_id, id="custom-fields")
            with TabPane(t("tui.profile.tab.holdings"), id="tab-holdings"):
                yield HoldingsTable(id="holdings-pane")
            with TabPane(t("tui.profile.tab.interactions"), id="tab-interactions"):
                yield InteractionList(self.crm.tz, self.day, id="interaction-list")
            with TabPane(t("tui.profile.tab.network"), id="tab-network"):
                yield RelationshipTree(id="network")
            with TabPane(t("products.panel.tab"), id="tab-allocation"):
                yield AllocationPanel(self.customer_id, id="allocation")
        yield Static("", id="profile-message", markup=False)
        yield Footer(compact=True)

    def on_resize(self, event: object) -> None:
        self.query_one("#profile-tabs").set_class(self.size.width < 100, "-narrow")

    def on_mount(self) -> None:
        self.query_one("#profile-tabs").loading = True
        self.load()

    # -- reading -----------------------------------------------------------------------

    def load(self) -> None:
        from crm_tui.domain.compliance.customer_state import blocking_state
        from crm_tui.domain.customers.profile import get_profile

        self.call_domain(get_profile, self.crm, self.actor, self.customer_id, today=self.today,
                         interactions=INTERACTION_PAGE, group="profile",
                         on_done=self._loaded, on_error=self._load_failed)
        self.call_domain(blocking_state, self.crm, self.actor, self.customer_id,
                         group="blocking", on_done=self._show_blocking,
                         on_error=lambda text: None)  # the profile itself reports failures

    def _load_failed(self, text: str) -> None:
        self.query_one("#profile-tabs").loading = False
        self.say(text, ok=False)

    def _show_blocking(self, state: BlockingState) -> None:
        """Up front, before any key: a freeze, open alerts, fields with a pending change."""
        from crm_tui.widgets.formatting import moment

        lines = []
        if state.frozen_rule_key is not None:
            lines.append(t("tui.ux.frozen_banner", rule=t(state.frozen_rule_key),
                           raised=moment(state.frozen_since, self.crm.tz)))
        elif state.open_alerts:
            lines.append(t("tui.ux.alerts_banner", count=state.open_alerts))
        if state.pending_fields:
            lines.append(t("tui.ux.pending_banner",
                           fields="、".join(t(f"field.{f}") for f in state.pending_fields)))
        banner = self.query_one("#profile-banner", Static)
        banner.update("\n".join(lines))
        banner.display = bool(lines)
        banner.set_class(state.frozen_rule_key is not None, "-frozen")
        identity = self.query_one(IdentityPanel)
        for field in ("phone", "national_id", "bank_account"):
            identity.masked(field).set_pending(field in state.pending_fields)

    def _loaded(self, view: CustomerView) -> None:
        self.query_one("#profile-tabs").loading = False
        self.view = view
        self.query_one(ProfileSummary).show(view)
        self.query_one(IdentityPanel).show(view, self.crm.tz, may_reveal=self._may("reveal"))
        self.query_one(KycPanel).show(view)
        self.query_one(TagList).show(view.tags)
        self.query_one(RecentInteractions).show(view.interactions, self.crm.tz, self.day)
        self.query_one(HoldingsTable).show(view)
        self.query_one(InteractionList).show(view.interactions, view.more_interactions,
                                             append=False)
        self.query_one(RelationshipTree).show(view)
        self.query_one(AllocationPanel).load()
        self.refresh_bindings()

    @on(InteractionList.MoreWanted)
    def _more_interactions(self, message: InteractionList.MoreWanted) -> None:
        self._load_interactions(message.before)

    def _load_interactions(self, before: tuple[datetime, int] | None) -> None:
        from crm_tui.domain.customers.interactions import list_interactions

        def show(page: tuple[tuple[InteractionView, ...], bool]) -> None:
            rows, more = page
            self.query_one(InteractionList).show(rows, more, append=before is not None)
            if before is None:
                self.query_one(RecentInteractions).show(rows, self.crm.tz, self.day)

        self.call_domain(list_interactions, self.crm, self.actor, self.customer_id,
                         limit=INTERACTION_PAGE, before=before, group="interactions",
                         on_done=show)

    # -- tags --------------------------------------------------------------------------

    @on(TagList.AddRequested)
    def _add_tag(self, message: TagList.AddRequested) -> None:
        self._change_tag(add=message.tag_name)

    @on(TagList.RemoveRequested)
    def _remove_tag(self, message: TagList.RemoveRequested) -> None:
        self._change_tag(remove=message.tag_id)

    def _change_tag(self, add: str | None = None, remove: int | None = None) -> None:
        from crm_tui.domain.customers import tags

        def added(new: bool) -> None:
            if new:
                self.say(t("tui.tags.added", tag=add), ok=True)
                self.load()
            else:  # already there: say so instead of doing nothing visible
                self.say(t("tui.ux.tag_exists", tag=add), ok=False)

        def removed(_: None) -> None:
            self.say(t("tui.tags.removed"), ok=True)
            self.load()

        if add is not None:
            self.call_domain(tags.add_tag, self.crm, self.actor, self.customer_id, add,
                             group="tags", block=True, on_done=added)
        else:
            self.call_domain(tags.remove_tag, self.crm, self.actor, self.customer_id,
                             remove or 0, group="tags", block=True, on_done=removed)

    # -- actions -----------------------------------------------------------------------

    def _may(self, action: str) -> bool:
        from crm_tui.domain.kernel.permissions import Perm, can

        perm = ACTION_PERMS.get(action)
        return perm is None or can(self.actor, Perm(perm))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "edit_custom":  # offered only once custom fields exist
            panels = self.query(CustomFieldsPanel)
            view = panels.first().view if panels else None
            return self._may(action) and bool(view and view.values)
        if action == "propose_rebalancing":  # on the allocation tab, with a purchase to propose
            return (self.query_one(TabbedContent).active == "tab-allocation"
                    and self.query_one(AllocationPanel).may_propose())
        if action in ACTION_PERMS:
            return self._may(action) and self.view is not None
        return True

    def on_tabbed_content_tab_activated(self, _: TabbedContent.TabActivated) -> None:
        self.refresh_bindings()  # the allocation tab's `g` follows the active tab

    def action_propose_rebalancing(self) -> None:
        self.query_one(AllocationPanel).propose()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        self.load()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = f"tab-{tab}"

    def action_add_tag(self) -> None:
        self.action_tab("overview")
        self.query_one(TagList).focus_input()

    def action_log_interaction(self) -> None:
        from crm_tui.screens.interaction_form import InteractionForm

        if self.view is not None:
            self.app.push_screen(InteractionForm(self.customer_id, self.view.name),
                                 self._interaction_logged)

    def _interaction_logged(self, new_id: int | None) -> None:
        if new_id:
            self.say(t("tui.interaction_form.saved"), ok=True)
            self.action_tab("interactions")
            self._load_interactions(None)

    def action_edit(self) -> None:
        from crm_tui.screens.edit_customer import EditCustomerForm

        if self.view is not None:
            self.app.push_screen(EditCustomerForm(self.view), self._edited)

    def _edited(self, version: int | None) -> None:
        if version:
            self.say(t("tui.edit.saved", version=version), ok=True)
            self.load()

    def action_edit_custom(self) -> None:
        from crm_tui.screens.custom_fields_form import CustomFieldsForm

        panel = self.query_one(CustomFieldsPanel)
        if panel.view is None or not panel.view.values:
            self.say(t("tui.forms.none_defined"), ok=False)
            return
        self.app.push_screen(CustomFieldsForm(panel.view), self._custom_saved)

    def _custom_saved(self, text: str | None) -> None:
        if text:
            self.say(text, ok=True)
            self.load()
            self.query_one(CustomFieldsPanel).load()

    def action_request_change(self) -> None:
        from crm_tui.screens.sensitive_change_form import open_from_profile

        open_from_profile(self)

    def action_record_transaction(self) -> None:
        from crm_tui.screens.transaction_form import open_from_profile

        open_from_profile(self)

    def action_privacy_request(self) -> None:
        from crm_tui.screens.privacy_forms import PrivacyRequestForm

        if self.view is not None:
            self.app.push_screen(PrivacyRequestForm(self.customer_id, self.view.name),
                                 self._privacy_requested)

    def _privacy_requested(self, request_id: int | None) -> None:
        if request_id:
            self.say(t("tui.privacy.request.saved", id=request_id), ok=True)

    def action_consents(self) -> None:
        from crm_tui.screens.privacy_forms import ConsentModal

        if self.view is not None:
            self.app.push_screen(ConsentModal(self.customer_id, self.view.name,
                                              self._may("log_interaction")), self._consented)

    def _consented(self, recorded: bool | None) -> None:
        if recorded:
            self.say(t("tui.privacy.consent.saved"), ok=True)

    def action_new_ticket(self) -> None:
        from crm_tui.screens.ticket_forms import open_from_profile

        open_from_profile(self)

    def action_new_opportunity(self) -> None:
        from crm_tui.screens.opportunity_form import open_new_opportunity

        if self.view is not None:
            open_new_opportunity(self, lambda text: self.say(text, ok=True),
                                 (self.customer_id, self.view.name))

    def action_reveal(self) -> None:
        focused = self.focused
        self._ask_reveal(focused.field if isinstance(focused, MaskedValue) else "national_id")

    @on(MaskedValue.RevealRequested)
    def _reveal_requested(self, message: MaskedValue.RevealRequested) -> None:
        self._ask_reveal(message.field)

    def _ask_reveal(self, field: str) -> None:
        from crm_tui.screens.reveal import RevealModal

        if self.view is not None and self._may("reveal"):
            self.app.push_screen(RevealModal(self.customer_id, self.view.name, field),
                                 self._revealed)

    def _revealed(self, result: tuple[str, str] | None) -> None:
        if result is not None:
            field, value = result
            self.action_tab("overview")
            self.query_one(IdentityPanel).masked(field).reveal(value)
            self.say(t("tui.reveal.audited"), ok=True)

    def on_screen_suspend(self) -> None:
        """Leaving the screen (another screen or dialog on top) hides revealed values."""
        self.query_one(IdentityPanel).remask()

    # -- the network -------------------------------------------------------------------

    @on(RelationshipTree.OpenRequested)
    def _open_related(self, message: RelationshipTree.OpenRequested) -> None:
        self.app.open_customer(message.customer_id)  # type: ignore[attr-defined]

    @on(RelationshipTree.OutOfScope)
    def _out_of_scope(self, message: RelationshipTree.OutOfScope) -> None:
        self.say(t("tui.network.not_openable", name=message.person), ok=False)

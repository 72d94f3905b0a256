"""The main screen: who is signed in, the areas (from `areas.AREAS`) and their badges."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import ContentSwitcher, OptionList, Static
from textual.widgets.option_list import Option

from crm_tui.i18n import t
from crm_tui.screens.areas import AREAS, Area
from crm_tui.widgets.bindings import TranslatedFooter
from crm_tui.widgets.footer import Footer
from crm_tui.widgets.session import SignedIn, UsesCrm, failure_text
from crm_tui.widgets.status_bar import StatusBar


def _nav_prompt(area: Area, badge: int | None) -> str:
    title = t(area.title_key)
    if not area.in_footer:  # its key is not in the footer, so the navigation says it
        title = f"{title} [dim]{area.key.replace('ctrl+', '^')}[/]"
    return f"{title}  [$accent]{badge:,}[/]" if badge is not None else title


class MainScreen(TranslatedFooter, UsesCrm, Screen[None]):
    CSS_PATH = "main.tcss"
    BADGE_REFRESH_SECONDS = 60.0
    # One binding per area (its function key); `check_action` hides the ones the role
    # may not use, so the footer lists exactly the navigation.
    BINDINGS = [
        Binding("ctrl+o", "app.logout", "tui.key.logout", id="logout"),
        *(Binding(a.key, f"show_area('{a.id}')", a.title_key, id=f"area-{a.id}",
                   show=a.in_footer) for a in AREAS),
    ]

    class BadgesCounted(Message):
        def __init__(self, counts: dict[str, int | None]) -> None:
            super().__init__()
            self.counts = counts

    def __init__(self, session: SignedIn) -> None:
        super().__init__(id="main")
        self._session = session
        self.areas = [a for a in AREAS if a.allowed(session.actor)]
        self.badges: dict[str, int | None] = {}
        self._badge_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield StatusBar(self._session)
        with Horizontal(id="main-body"):
            yield OptionList(*(Option(_nav_prompt(a, None), id=a.id) for a in self.areas), id="nav")
            if self.areas:
                with ContentSwitcher(initial=self.areas[0].id, id="area-switcher"):
                    for area in self.areas:
                        pane = area.pane()
                        pane.id = area.id
                        yield pane
            else:
                yield Static(t("tui.main.no_areas"), id="no-areas")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if self.areas:
            self.show_area(self.areas[0].id, focus=True)
        self.refresh_badges()

    def on_screen_resume(self) -> None:
        """Back from a profile or a request: the current area takes the keyboard again
        (the search box, with its query), so typing goes somewhere."""
        if not self.areas:
            return
        pane = self.query_one(ContentSwitcher).visible_content
        back = getattr(pane, "focus_on_return", None)
        if back is not None:
            back()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "show_area":
            return parameters[0] in {a.id for a in self.areas}
        return True

    def action_show_area(self, area_id: str) -> None:
        self.show_area(area_id, focus=True)

    def show_area(self, area_id: str, *, focus: bool = False) -> None:
        if area_id not in {a.id for a in self.areas}:
            return
        self.query_one(ContentSwitcher).current = area_id
        nav = self.query_one("#nav", OptionList)
        nav.highlighted = nav.get_option_index(area_id)
        if focus:
            pane = self.query_one(f"#{area_id}")
            focus_default = getattr(pane, "focus_default", None)
            if focus_default is not None:
                focus_default()
            else:
                pane.focus()

    @on(OptionList.OptionSelected, "#nav")
    def _nav_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.show_area(event.option.id, focus=True)

    # -- badges, re-armed after each count as Dolphie's panels do ----------------------

    def refresh_badges(self) -> None:
        if any(a.badge for a in self.areas):
            self._count_badges()

    @work(thread=True, exclusive=True, group="badges")
    def _count_badges(self) -> None:
        counts: dict[str, int | None] = {}
        for area in self.areas:
            if area.badge is not None:
                try:
                    counts[area.id] = area.badge(self.crm, self.actor)
                except Exception as exc:  # a badge is a hint; the area itself reports errors
                    failure_text(self, exc)
                    counts[area.id] = None
        self.post_message(self.BadgesCounted(counts))

    def on_main_screen_badges_counted(self, message: BadgesCounted) -> None:
        self.badges.update(message.counts)
        nav = self.query_one("#nav", OptionList)
        for area in self.areas:
            nav.replace_option_prompt(area.id, _nav_prompt(area, self.badges.get(area.id)))
        if self._badge_timer is not None:
            self._badge_timer.stop()
        self._badge_timer = self.set_timer(self.BADGE_REFRESH_SECONDS, self.refresh_badges)

"""The Textual app: wiring, theme, global bindings, the command palette and the idle lock.

Start-up stays lean on purpose: this module imports Textual and the catalog only. The
database, SQLAlchemy and the domain load in the login worker, so the login screen paints
about as fast as an empty Textual app; every other screen is imported after sign-in.
"""

from __future__ import annotations

import os
import threading
from datetime import date
from time import monotonic, perf_counter
from typing import TYPE_CHECKING

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.command import CommandPalette, Provider
from textual.message import Message
from textual.screen import ModalScreen
from textual.theme import Theme
from textual.timer import Timer

from crm_tui.i18n import t
from crm_tui.keymap import AppliesKeymap
from crm_tui.screens.login import LoginScreen
from crm_tui.unexpected import ReportsUnexpected
from crm_tui.widgets.session import SignedIn, failure_text

if TYPE_CHECKING:
    from crm_tui.domain.kernel.actor import Actor
    from crm_tui.domain.kernel.context import Crm

_IMPORTED_AT = perf_counter()


def _process_age_ms() -> float | None:
    """How long ago this process started (Linux /proc); None elsewhere."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        return (uptime - start_ticks / os.sysconf("SC_CLK_TCK")) * 1000
    except (OSError, ValueError, IndexError):
        return None


CALM = Theme(
    name="crm-calm",
    primary="#5B8DB8",
    secondary="#3E6A8A",
    accent="#C9A25A",
    warning="#D4A13F",
    error="#CF6A78",
    success="#6BAF7F",
    foreground="#D5DCE3",
    background="#151A21",
    surface="#1B222B",
    panel="#222B36",
    dark=True,
)


def _palette_provider() -> type[Provider]:
    from crm_tui.palette import CrmCommands

    return CrmCommands


class CrmApp(ReportsUnexpected, AppliesKeymap, App[None]):
    """One signed-in member of staff working the book from a terminal."""

    CSS_PATH = "app.tcss"
    COMMANDS = {_palette_provider}
    BINDINGS = [
        Binding("ctrl+p", "command_palette", "tui.key.palette", priority=True, show=False,
                id="command-palette"),
        Binding("ctrl+l", "lock", "tui.key.lock", id="lock-screen"),
        Binding("ctrl+q", "quit", "tui.key.quit", show=False, id="quit"),
        # The areas' function keys work from any screen (a profile, a request): back to
        # the main screen on that area. MainScreen's own bindings answer first there.
        *(Binding(f"f{n}", f"goto_area_key('f{n}')", show=False, id=f"goto-f{n}")
          for n in range(2, 13)),
    ]

    def __init__(self, crm: Crm | None = None, *, db: str | None = None,
                 username: str | None = None, today: date | None = None,
                 session: SignedIn | None = None) -> None:
        """`session` starts already signed in, for a caller that has authenticated the
        user itself (tests; a front door with its own checks). Otherwise the login
        screen asks, with `username` filled in."""
        super().__init__()
        self.title = t("tui.app.title")
        self._crm = crm
        self._db = db
        self._crm_guard = threading.Lock()
        self.prefill_username = username or ""
        self.today = today  # None: the real date in the branch's zone; tests pin it
        self.session: SignedIn | None = None
        self._initial_session = session
        self.locked = False
        self.started_ms: float | None = None
        self._last_input = monotonic()
        self._idle_timer: Timer | None = None
        self.register_theme(CALM)
        self.theme = CALM.name

    # -- the store, opened lazily (from a worker) -------------------------------------

    @property
    def crm(self) -> Crm:
        with self._crm_guard:
            if self._crm is None:
                from crm_tui.domain.kernel.context import open_crm

                self._crm = open_crm(self._db)
            return self._crm

    @property
    def actor(self) -> Actor | None:
        return self.session.actor if self.session else None

    # -- start, sign in, sign out -----------------------------------------------------

    def on_mount(self) -> None:
        self.load_keymap()
        if self._initial_session is not None:
            self._signed_in(self._initial_session)
        else:
            self.push_screen(LoginScreen(self.prefill_username), self._signed_in)

    def note_started(self) -> None:
        """Called once the login screen has painted: how long the cold start took (from
        process start where the OS says, else from this module's import)."""
        if self.started_ms is None:
            age = _process_age_ms()
            self.started_ms = age if age is not None else (perf_counter() - _IMPORTED_AT) * 1000
            self.log.info(f"started in {self.started_ms:.0f} ms")
            from crm_tui.logs import log, setup_logging

            setup_logging()
            log.info("tui started in %.0f ms", self.started_ms)

    def _signed_in(self, session: SignedIn | None) -> None:
        if session is None:
            return
        from crm_tui.screens.main import MainScreen

        self.session = session
        self.locked = False
        self._last_input = monotonic()
        minutes = self.crm.settings.idle_lock_minutes
        period = min(30.0, max(0.05, minutes * 60 / 6))
        self._idle_timer = self.set_interval(period, self._check_idle)
        self.push_screen(MainScreen(session))
        self.refresh_bindings()
        self.check_keymap_ids()

    async def action_logout(self) -> None:
        if self.session is None:
            return
        self._record_logout(self.session.actor)
        await self._back_to_login(LoginScreen(""))

    async def _back_to_login(self, login: LoginScreen) -> None:
        """End the session: no idle timer, every screen closed, the login screen on top."""
        self.session = None
        self.locked = False
        if self._idle_timer is not None:
            self._idle_timer.stop()
            self._idle_timer = None
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        await self.push_screen(login, self._signed_in)
        self.refresh_bindings()

    class SessionRevoked(Message):
        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    def session_revoked(self, reason: str) -> None:
        """The staff row no longer backs this session (disabled, new role, password reset):
        back to the login screen, with the reason in words. Safe from any thread (a worker's
        error path included): it only posts a message, which is thread-safe."""
        self.post_message(self.SessionRevoked(reason))

    async def on_crm_app_session_revoked(self, message: SessionRevoked) -> None:
        if self.session is not None:
            await self._back_to_login(LoginScreen(self.session.actor.username, message.reason))

    @work(thread=True, group="audit")
    def _record_logout(self, actor: Actor) -> None:
        from crm_tui.domain.admin.auth import logout

        try:
            logout(self.crm, actor)
        except Exception as exc:  # the session ends regardless; the reason goes to the log
            failure_text(self, exc)

    # -- idle lock --------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent) and not event.is_forwarded:
            self._last_input = monotonic()
        await super().on_event(event)

    def _check_idle(self) -> None:
        if self.session is None or self.locked:
            return
        limit = self.crm.settings.idle_lock_minutes * 60
        if monotonic() - self._last_input >= limit:
            self.lock(idle=True)

    def action_lock(self) -> None:
        self.lock(idle=False)

    def lock(self, *, idle: bool) -> None:
        """Cover everything with the lock screen; only the same password lifts it."""
        if self.session is None or self.locked:
            return
        from crm_tui.screens.lock import LockScreen

        self.locked = True
        if CommandPalette.is_open(self):
            self.pop_screen()
        self._record_lock(self.session.actor, idle)
        self.push_screen(LockScreen(self.session, idle=idle), self._unlocked)

    @work(thread=True, group="audit")
    def _record_lock(self, actor: Actor, idle: bool) -> None:
        from crm_tui.domain.admin.auth import record_idle_lock

        try:
            record_idle_lock(self.crm, actor, manual=not idle)
        except Exception as exc:  # the screen stays locked regardless
            failure_text(self, exc)

    def _unlocked(self, unlocked: bool | None) -> None:
        self.locked = False
        self._last_input = monotonic()
        if not unlocked:
            self.call_later(self.action_logout)

    # -- settings -----------------------------------------------------------------------

    def action_set_language(self, lang: str) -> None:
        """Store the language preference on the staff record (it decides every later SSH
        session's language); new screens in this session use it at once."""
        if self.session is not None:
            self._save_language(self.session.actor, lang)

    @work(thread=True, group="settings")
    def _save_language(self, actor: Actor, lang: str) -> None:
        from crm_tui.domain.admin.preferences import set_language as store_language
        from crm_tui.i18n import set_language

        try:
            store_language(self.crm, actor, lang)
        except Exception as exc:
            self.call_from_thread(self.notify, failure_text(self, exc), severity="error")
            return
        set_language(lang)
        name = t("tui.settings.language_en" if lang == "en" else "tui.settings.language_zh")
        self.call_from_thread(self.notify, t("tui.settings.language_set", language=name))

    # -- navigation shared by screens and the palette ---------------------------------

    def open_customer(self, customer_id: int, *, replace: bool = False) -> None:
        """Push the profile; with `replace` (the palette), close open profiles first, so
        jumping around by name does not pile them up. From a profile's network the new
        profile stacks, and Esc goes back to the one before."""
        from crm_tui.screens.profile import ProfileScreen

        if self.session is None or self.locked:
            return
        if isinstance(self.screen, ProfileScreen) and self.screen.customer_id == customer_id:
            return
        if not replace:
            self.push_screen(ProfileScreen(customer_id))
            return
        self.run_worker(self._open_customer(customer_id), group="open-customer", exclusive=True)

    async def _open_customer(self, customer_id: int) -> None:
        """One profile at a time: a profile opened from the palette replaces the one open."""
        from crm_tui.screens.profile import ProfileScreen

        while isinstance(self.screen, ProfileScreen) and len(self.screen_stack) > 2:
            await self.pop_screen()
        await self.push_screen(ProfileScreen(customer_id))

    async def action_goto_area_key(self, key: str) -> None:
        from crm_tui.screens.areas import AREAS
        from crm_tui.screens.main import MainScreen

        area = next((a for a in AREAS if a.key == key), None)
        if area is None or self.session is None or self.locked:
            return
        while len(self.screen_stack) > 2 and not isinstance(self.screen, MainScreen):
            await self.pop_screen()
        if isinstance(self.screen, MainScreen):
            self.screen.show_area(area.id, focus=True)

    def action_help_quit(self) -> None:
        """Ctrl+C: say in the user's language how to quit (Textual's line is English)."""
        self.notify(t("tui.app.how_to_quit", key="Ctrl+Q"), title=t("tui.app.quit_title"))

    async def action_search(self) -> None:
        """Back to the main screen's customer search, with the cursor in the box."""
        from crm_tui.screens.main import MainScreen

        if self.session is None or self.locked:
            return
        while len(self.screen_stack) > 2 and not isinstance(self.screen, MainScreen):
            await self.pop_screen()
        if isinstance(self.screen, MainScreen):
            self.screen.show_area("customers", focus=True)

    def action_command_palette(self) -> None:
        if self.session is None or self.locked or CommandPalette.is_open(self):
            return
        self.push_screen(CommandPalette(placeholder=t("tui.palette.placeholder"),
                                        id="--command-palette"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("lock", "logout", "command_palette", "search", "goto_area_key"):
            if action == "goto_area_key" and isinstance(self.screen, ModalScreen):
                return False
            return self.session is not None and not self.locked
        return True


def run(db: str | None = None, username: str | None = None) -> None:
    """`crm` with no subcommand: the TUI on `db` (or the configured store)."""
    CrmApp(db=db, username=username).run()

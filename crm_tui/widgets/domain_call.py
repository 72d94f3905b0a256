"""One way for a screen to call the domain: in a thread worker, never on the UI thread.

`self.call_domain(fn, *args, on_done=..., group="save")` runs `fn(*args)` in a thread
worker and hands the answer back on the UI thread:

- each call in a group gets a generation number; an answer whose generation is no longer
  the newest (the user typed on, reloaded, left the screen) is dropped, so a late page
  never lands on top of a fresh one;
- the signed-in session is re-checked first (kernel.sessions): a revoked one (disabled,
  role changed, password reset) sends the app back to the login screen with the reason;
- a `DomainError` (or any other failure) becomes one line, given to `on_error` (default:
  the widget's `say(text, ok=False)` if it has one);
- an exception in `on_done` / `on_error` themselves (a bug in the screen) is reported as
  one line with an error id (crm_tui.unexpected), and the session goes on;
- with `block=True` a second call while the first runs is ignored (no double submit);
  `busy(group)` says whether one is running, for disabling a button.

Screens stay layout, bindings and calls into `domain`; this is the plumbing they share.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from textual.dom import DOMNode

from crm_tui.widgets.session import failure_text

T = TypeVar("T")


class DomainCalls:
    """Mixin for widgets and screens (anything with `app`, `run_worker`, `is_attached`)."""

    def _call_state(self) -> tuple[dict[str, int], set[str]]:
        state = self.__dict__.get("_domain_call_state")
        if state is None:
            state = ({}, set())
            self.__dict__["_domain_call_state"] = state
        return state

    def busy(self, group: str = "domain") -> bool:
        return group in self._call_state()[1]

    def cancel_calls(self, group: str = "domain") -> None:
        """Forget any answer still on its way for `group` (the query was cleared, say)."""
        generations, running = self._call_state()
        generations[group] = generations.get(group, 0) + 1
        running.discard(group)

    def call_domain(
        self,
        fn: Callable[..., T],
        *args: Any,
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        group: str = "domain",
        block: bool = False,
        **kwargs: Any,
    ) -> bool:
        """Run `fn(*args, **kwargs)` in a worker; False when `block` refused a second call."""
        generations, running = self._call_state()
        if block and group in running:
            return False
        generation = generations.get(group, 0) + 1
        generations[group] = generation
        running.add(group)
        node = cast(Any, self)

        def deliver(ok: bool, value: Any) -> None:
            if generations.get(group) != generation:
                return  # a newer call (or a cancel) superseded this one
            running.discard(group)
            if not node.is_attached:
                return
            try:
                show(ok, value)
            except Exception as exc:  # a bug in the screen's callback: one line, not a crash
                report = getattr(node.app, "report_unexpected", None)
                if report is None:
                    raise
                report(exc)

        def show(ok: bool, value: Any) -> None:
            if ok:
                if on_done is not None:
                    on_done(value)
            elif on_error is not None:
                on_error(value)
            else:
                say = getattr(node, "say", None)
                if say is not None:
                    say(value, ok=False)
                else:
                    node.notify(value, severity="error")

        def work() -> None:
            from crm_tui.domain.kernel.sessions import verify_session

            try:
                signed_in = getattr(node.app, "session", None)
                if signed_in is not None:  # the staff row still backs this session?
                    verify_session(node.app.crm, signed_in.actor)
                result = fn(*args, **kwargs)
            except Exception as exc:  # one line (see failure_text; a revoked session: login)
                text = failure_text(cast(DOMNode, node), exc)
                node.app.call_from_thread(deliver, False, text)
            else:
                node.app.call_from_thread(deliver, True, result)

        node.run_worker(work, thread=True, group=f"domain-call-{group}", exclusive=False,
                        exit_on_error=False)
        return True

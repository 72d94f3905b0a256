"""The screens' one helper for domain calls: late answers dropped, double submit blocked,
failures shown as one line."""

from __future__ import annotations

import threading

from textual.app import App, ComposeResult
from textual.widgets import Static

from crm_tui.domain.kernel.errors import NotFound
from crm_tui.widgets.domain_call import DomainCalls


class Pane(DomainCalls, Static):
    def __init__(self) -> None:
        super().__init__("")
        self.got: list[object] = []
        self.said: list[str] = []

    def say(self, text: str, *, ok: bool) -> None:
        self.said.append(text)


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield Pane()


async def test_a_late_answer_is_dropped_and_double_submit_blocked() -> None:
    app = Host()
    async with app.run_test() as pilot:
        pane = app.query_one(Pane)
        slow = threading.Event()

        def slow_call() -> str:
            slow.wait(5)
            return "old"

        pane.call_domain(slow_call, on_done=pane.got.append, group="search")
        pane.call_domain(lambda: "new", on_done=pane.got.append, group="search")
        await app.workers.wait_for_complete()  # the quick one is done; the slow one waits
        slow.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert pane.got == ["new"]

        gate = threading.Event()
        assert pane.call_domain(lambda: gate.wait(5) and "saved", on_done=pane.got.append,
                                group="save", block=True)
        assert pane.busy("save")
        assert not pane.call_domain(lambda: "twice", on_done=pane.got.append,
                                    group="save", block=True)
        gate.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert pane.got == ["new", "saved"] and not pane.busy("save")

        def refused() -> None:
            raise NotFound("error.customer_not_found", id=7)

        pane.call_domain(refused, group="open")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert pane.said == ["Customer 7 is not in your book (or does not exist)."]

"""Tags: rule tags (the policy's tiering, read-only here) and manual tags (an RM's call).

The two kinds look different — a rule tag carries a ⚙ and the word "rule" — because
only manual tags can be removed by hand; the domain refuses the others and its message
is shown as it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from crm_tui.i18n import language, t

if TYPE_CHECKING:
    from crm_tui.domain.customers.views import TagView


def tag_name(tag: TagView) -> str:
    return tag.name_en if language() == "en" and tag.name_en else tag.name


def tag_prompt(tag: TagView) -> Text:
    if tag.source == "rule":
        return Text.assemble(("⚙ ", "dim"), (tag_name(tag), "bold"), "  ",
                             (t("tui.tags.rule"), "dim italic"))
    return Text.assemble(("● ", "cyan"), (tag_name(tag), "bold"), "  ",
                         (t("tui.tags.manual"), "dim italic"))


def _may_manage_tags(node: object) -> bool:
    from crm_tui.domain.kernel.permissions import Perm, can

    session = getattr(getattr(node, "app", None), "session", None)
    return session is not None and can(session.actor, Perm.TAG_MANAGE)


class TagOptions(OptionList):
    BINDINGS = [Binding("delete,x", "remove_tag", "tui.key.remove_tag", id="remove-tag")]

    def __init__(self, *args: object, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The footer offers "remove tag" only to roles that may manage tags."""
        if action == "remove_tag":
            return _may_manage_tags(self)
        return True

    def action_remove_tag(self) -> None:
        option = self.highlighted_option
        if option is not None and option.id:
            self.post_message(TagList.RemoveRequested(int(option.id)))


class TagInput(Input):
    """Esc leaves the tag box (back to the tags), not the whole profile."""

    BINDINGS = [Binding("escape", "leave", show=False)]

    def action_leave(self) -> None:
        self.value = ""
        self.screen.set_focus(None)


class TagList(Vertical):
    DEFAULT_CSS = """
    TagList { height: auto; }
    TagList TagOptions { height: auto; max-height: 8; border: none; padding: 0;
        background: transparent; }
    TagList #tags-empty { color: $text-muted; }
    TagList Input { margin-top: 1; }
    """

    class AddRequested(Message):
        def __init__(self, tag_name: str) -> None:
            super().__init__()
            self.tag_name = tag_name

    class RemoveRequested(Message):
        def __init__(self, tag_id: int) -> None:
            super().__init__()
            self.tag_id = tag_id

    def compose(self) -> ComposeResult:
        yield Static(t("tui.tags.title"), classes="panel-title")
        yield TagOptions(id="tag-options")
        yield Static(t("tui.tags.none"), id="tags-empty")
        yield TagInput(id="tag-input", placeholder=t("tui.tags.add_hint"), compact=True)

    def on_mount(self) -> None:
        self.query_one(TagInput).display = _may_manage_tags(self)

    def show(self, tags: tuple[TagView, ...]) -> None:
        options = self.query_one(TagOptions)
        highlighted = options.highlighted
        options.set_options(Option(tag_prompt(tag), id=str(tag.id)) for tag in tags)
        if tags and highlighted is not None:
            options.highlighted = min(highlighted, len(tags) - 1)
        options.display = bool(tags)
        self.query_one("#tags-empty").display = not tags

    def focus_input(self) -> None:
        self.query_one("#tag-input", Input).focus()

    @on(Input.Submitted, "#tag-input")
    def _add(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        if name:
            self.post_message(self.AddRequested(name))
        event.input.value = ""

"""The relationship network as a tree: household, business partners, decision influencers.

People outside the actor's book still appear (an RM should know a client's spouse
banks elsewhere in the branch) but only by name, dimmed, and cannot be opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from crm_tui.i18n import t

if TYPE_CHECKING:
    from crm_tui.domain.customers.views import CustomerView, RelationNode


def node_label(node: RelationNode) -> Text:
    kind = t(f"relation.{node.kind}")
    if node.in_scope:
        return Text.assemble((kind, "dim"), "  ", (node.name, "bold"))
    return Text.assemble((kind, "dim"), "  ", (node.name, "dim"), "  ",
                         (t("tui.network.out_of_scope"), "dim italic"))


class RelationshipTree(Tree["RelationNode | None"]):
    """Enter on an in-scope person posts `OpenRequested`; others post `OutOfScope`."""

    DEFAULT_CSS = "RelationshipTree { height: 1fr; }"

    class OpenRequested(Message):
        def __init__(self, customer_id: int) -> None:
            super().__init__()
            self.customer_id = customer_id

    class OutOfScope(Message):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.person = name

    def __init__(self, **kw: str) -> None:
        super().__init__(Text(""), data=None, **kw)
        self.auto_expand = False
        self.show_root = True

    def show(self, view: CustomerView) -> None:
        self.clear()
        self.root.set_label(Text.assemble((view.name, "bold"), "  ",
                                          (t("tui.network.root_hint"), "dim")))
        self.root.data = None
        for node in view.network:
            self._add(self.root, node)
        if not view.network:
            self.root.add_leaf(Text(t("tui.network.none"), style="dim"), data=None)
        self.root.expand_all()

    def _add(self, parent: TreeNode[RelationNode | None], node: RelationNode) -> None:
        if node.children:
            branch = parent.add(node_label(node), data=node, expand=True)
            for child in node.children:
                self._add(branch, child)
        else:
            parent.add_leaf(node_label(node), data=node)

    @on(Tree.NodeSelected)
    def _selected(self, event: Tree.NodeSelected[RelationNode | None]) -> None:
        event.stop()
        data = event.node.data
        if data is None:
            return
        if data.in_scope:
            self.post_message(self.OpenRequested(data.customer_id))
        else:
            self.post_message(self.OutOfScope(data.name))

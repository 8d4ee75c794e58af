"""Which migrations a process's code ships, stored compactly and compared exactly.

A process ships the migrations on its disk: every node of the graph Django's loader builds
from the files alone (squashed and replaced migrations both count). Storing them all, for
every process, every minute, would be wasteful; storing a digest of the set and the leaves
(the nodes nothing depends on) is enough to compare *exactly*: every node descends to some
leaf, so the set is the leaves and their ancestors. The command rebuilds that set from its
own graph and trusts it only when its digest matches the stored one. When it cannot
(a leaf it does not know: newer or other code), it says it cannot tell, and the gate waits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.migrations.graph import MigrationGraph
from django.db.migrations.loader import MigrationLoader

Key = tuple[str, str]


def code_graph() -> MigrationGraph:
    """Return the migration graph of the code on this disk, without asking the database."""
    loader = MigrationLoader(None, ignore_no_migrations=True, replace_migrations=False)
    graph: MigrationGraph = loader.graph
    return graph


def label(key: Key) -> str:
    return f"{key[0]}.{key[1]}"


def digest(nodes: Iterable[Key]) -> str:
    """Return a digest of a set of migrations, the same on every host for the same set."""
    return hashlib.sha256("\n".join(sorted(map(label, nodes))).encode()).hexdigest()


@dataclass(frozen=True)
class Shipped:
    """The migrations a process ships: their digest, their leaves and how many there are."""

    digest: str
    leaves: tuple[str, ...]
    count: int

    @classmethod
    def of(cls, graph: MigrationGraph) -> Shipped:
        leaves = sorted(label(key) for key, node in graph.node_map.items() if not node.children)
        return cls(digest(graph.nodes), tuple(leaves), len(graph.nodes))


class CodeView:
    """The command's own graph, asked which migrations another process's record ships."""

    def __init__(self, graph: MigrationGraph) -> None:
        self.graph = graph
        self.own = Shipped.of(graph)

    def nodes_of(self, shipped: Shipped) -> frozenset[Key] | None:
        """Return the migrations ``shipped`` stands for, or ``None`` if this code cannot tell."""
        if shipped.digest == self.own.digest:
            return frozenset(self.graph.nodes)
        leaves = [tuple(text.split(".", 1)) for text in shipped.leaves]
        if not all(len(key) == 2 and key in self.graph.node_map for key in leaves):
            return None
        nodes = self._ancestors(leaves)  # type: ignore[arg-type]
        return nodes if digest(nodes) == shipped.digest else None

    def _ancestors(self, leaves: list[Key]) -> frozenset[Key]:
        seen: set[Key] = set()
        todo = [self.graph.node_map[key] for key in leaves]
        while todo:
            node = todo.pop()
            if node.key not in seen:
                seen.add(node.key)
                todo.extend(node.parents)
        return frozenset(seen)

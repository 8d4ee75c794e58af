"""Where undoing a plan goes back to: the runbook's rollback commands and schema state."""

from __future__ import annotations

from django.db.migrations.loader import MigrationLoader

Key = tuple[str, str]


def rollback_target(loader: MigrationLoader, key: Key) -> str:
    """Return the migration of the same app to go back to before ``key``: its parent, or zero.

    Going back to the parent unapplies ``key`` and everything after it in that app, which is
    what undoing a deploy means.
    """
    parents = [
        parent.key for parent in loader.graph.node_map[key].parents if parent.key[0] == key[0]
    ]
    return max(parents)[1] if parents else "zero"


def applied_leaves(loader: MigrationLoader) -> dict[str, str]:
    """Return the latest applied migration of each app: the schema state the plan starts from."""
    leaves: dict[str, str] = {}
    for app_label, name in sorted(loader.applied_migrations or {}):
        leaves[app_label] = name
    return leaves

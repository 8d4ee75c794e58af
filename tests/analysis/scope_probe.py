"""Collect every migration's SQL both from the whole state and from ``scope``'s part of it.

Run as ``python -m tests.analysis.scope_probe`` with the settings of a project whose history
to go through; prints, as JSON, how many migrations were scoped and every one whose SQL
differs, forwards or backwards.
"""

from __future__ import annotations

import json
from unittest import mock

import django

django.setup()

from django.db import connection  # noqa: E402
from django.db.migrations.loader import MigrationLoader  # noqa: E402

from safemigrate.analysis import collect as collecting  # noqa: E402
from safemigrate.analysis.scope import scoped_state  # noqa: E402


def collected(migration, state, backwards):  # type: ignore[no-untyped-def]
    items, _ = collecting.collect(connection, migration, state, backwards=backwards)
    return [(item.index, item.sql, item.error) for item in items]


def main() -> None:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    scoped = 0
    differ = []
    for key in sorted(loader.graph.nodes):
        migration = loader.graph.nodes[key]
        before = loader.project_state(key, at_end=False)
        part = scoped_state(migration, before)
        if part is None:
            continue
        scoped += 1
        for backwards in (False, True):
            with mock.patch.object(collecting, "scoped_state", return_value=None):
                whole = collected(migration, before, backwards)
            if collected(migration, part, backwards) != whole:
                differ.append([*key, "backwards" if backwards else "forwards"])
    print(json.dumps({"migrations": len(loader.graph.nodes), "scoped": scoped, "differ": differ}))


if __name__ == "__main__":
    main()

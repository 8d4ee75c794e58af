"""Reach a state the way back cannot: empty the test database, then migrate up from zero.

A migration that cannot be unapplied (``RunPython`` without ``reverse_code``, a data change
that keeps nothing of what it replaced) closes every state below it to ``migrate``. A test
database holds nothing worth keeping, so a test can get there another way: drop what the
migrations made, then apply from zero exactly the migrations of the state asked for.

Dropping is refused unless it is the database Django's test setup created (pytest-django's
``test_<NAME>``, or ``DATABASES[alias]["TEST"]["NAME"]``) and a pytest test is running: a
migrator pointed at any other database, or used outside a test, never empties it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.creation import TEST_DATABASE_PREFIX
from django.db.migrations import Migration
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation
from django.db.models import Model

from safemigrate.postgres.tables import split_relation

Key = tuple[str, str]
#: A migration, or ``(app_label, None)``: the state before the app's first migration.
Target = tuple[str, str | None]
#: Called with the action (``apply_start``...) and the migration, as Django's executor does.
Progress = Callable[..., None]
#: What ``MigrationExecutor.migration_plan`` returns: each migration, and whether it is unapplied.
Plan = list[tuple[Migration, bool]]

#: What the migrations made: every object of these kinds in a schema of the database's own,
#: owned by this role, and not part of an extension (an extension is kept whole: the
#: migration that creates it again says ``IF NOT EXISTS``, as Django's ``CreateExtension``),
#: except the tables of apps without migrations (``migrate --run-syncdb`` made those).
#: What another object owns (a column's identity or serial sequence, a partition) goes with
#: it, and so do indexes, constraints and triggers: none of them is dropped on its own.
MADE_BY_MIGRATIONS = """
SELECT kind, nspname, name, arguments FROM (
    SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'c' THEN 'TYPE'
                ELSE 'TABLE' END,
           c.relnamespace, c.relname, NULL, c.relowner, 'pg_class'::regclass, c.oid, 1
    FROM pg_class c WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
    UNION ALL
    SELECT CASE p.prokind WHEN 'a' THEN 'AGGREGATE' ELSE 'ROUTINE' END,
           p.pronamespace, p.proname, pg_get_function_identity_arguments(p.oid), p.proowner,
           'pg_proc'::regclass, p.oid, 2
    FROM pg_proc p
    UNION ALL
    SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
           t.typnamespace, t.typname, NULL, t.typowner, 'pg_type'::regclass, t.oid, 3
    FROM pg_type t WHERE t.typtype IN ('e', 'r', 'd')
    UNION ALL
    SELECT 'COLLATION', c.collnamespace, c.collname, NULL, c.collowner,
           'pg_collation'::regclass, c.oid, 4
    FROM pg_collation c
) AS made (kind, namespace, name, arguments, owner, classid, objid, rank)
JOIN pg_namespace n ON n.oid = made.namespace
WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE %s
  AND pg_has_role(made.owner, 'USAGE')
  AND NOT (made.classid = 'pg_class'::regclass AND made.name = ANY(%s))
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = made.classid AND d.objid = made.objid AND d.deptype IN ('e', 'i', 'a')
  )
ORDER BY rank, nspname, name
"""


#: PostgreSQL's own schemas (pg_catalog, pg_toast, temporary ones), as a LIKE pattern.
SYSTEM_SCHEMAS = "pg\\_%"


class RebuildRefused(RuntimeError):
    """The database is not one a test may empty."""


def irreversible_operation(migration: Migration) -> Operation | None:
    """The first operation of ``migration`` that has no backwards step, if any."""
    return next((op for op in migration.operations if not op.reversible), None)


def cannot_unapply(plan: Plan) -> list[Migration]:
    """The migrations ``plan`` would unapply that raise ``IrreversibleError`` when unapplied."""
    return [m for m, backwards in plan if backwards and irreversible_operation(m) is not None]


def key_of(migration: Migration) -> Key:
    return (migration.app_label, migration.name)


def state_after(loader: MigrationLoader, plan: Plan) -> set[Key]:
    """The migrations applied once ``plan`` has run on the database ``loader`` read."""
    applied = {k for k in loader.applied_migrations or {} if k in loader.graph.nodes}
    for migration, backwards in plan:
        (applied.discard if backwards else applied.add)(key_of(migration))
    return applied


def ends(graph: MigrationGraph, keys: Collection[Key]) -> list[Target]:
    """The targets whose forward plans together apply ``keys`` (a set closed under
    dependencies) and nothing more: those of them no other of them depends on."""
    return sorted(k for k in keys if not any(c.key in keys for c in graph.node_map[k].children))


def refuse_unless_test_database(connection: BaseDatabaseWrapper) -> None:
    """Raise ``RebuildRefused`` unless ``connection`` is on the test database, in a test."""
    name = connection.settings_dict["NAME"]
    if not _is_test_database(connection.settings_dict):
        raise RebuildRefused(
            f"The migrator empties only the test database Django's test setup created "
            f"({TEST_DATABASE_PREFIX}<NAME>, or the TEST NAME setting), and the "
            f"{connection.alias!r} database is {name!r}. Fix: run the test with "
            "pytest-django's test database, not a database of its own."
        )
    if not os.environ.get("PYTEST_CURRENT_TEST"):
        raise RebuildRefused(
            f"The migrator empties the test database {name!r} only during a pytest test. "
            "Fix: use the migrator fixture in a test."
        )


def _is_test_database(settings: dict[str, Any]) -> bool:
    # Django's test setup renames NAME to TEST NAME, or to test_<NAME> when none is given.
    name, test_name = settings["NAME"], settings.get("TEST", {}).get("NAME")
    return bool(name == test_name or (not test_name and name.startswith(TEST_DATABASE_PREFIX)))


def empty_database(connection: BaseDatabaseWrapper, unmigrated: Collection[str]) -> None:
    """Drop every table, view, sequence, function, type and collation the migrations made:
    all but the ``unmigrated`` apps' tables."""
    refuse_unless_test_database(connection)
    tables = [split_relation(model._meta.db_table)[1] for model in _models(unmigrated)]
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(MADE_BY_MIGRATIONS, [SYSTEM_SCHEMAS, tables])
        for statement in _drops(connection, cursor.fetchall()):
            cursor.execute(statement)


def _models(app_labels: Collection[str]) -> list[type[Model]]:
    return [
        model
        for label in app_labels
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    ]


def _drops(
    connection: BaseDatabaseWrapper, found: Iterable[tuple[str, str, str, str | None]]
) -> Iterable[str]:
    # IF EXISTS: a table's drop CASCADEs to the views on it, which are listed too.
    quote = connection.ops.quote_name
    for kind, schema, name, arguments in found:
        signature = "" if arguments is None else f"({arguments})"
        yield f"DROP {kind} IF EXISTS {quote(schema)}.{quote(name)}{signature} CASCADE"

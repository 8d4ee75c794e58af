"""Run each real app's history forwards and back to zero, by safemigrate and by migrate.

Prints, as JSON, per app and direction: the operations whose SQL ``--lint`` could not
collect, whether each command failed, the schema of each database (tables, columns,
constraints, indexes) and its ``django_migrations`` rows.
Run as ``python -m tests.realapps.compare`` with ``DJANGO_SETTINGS_MODULE`` set to
``tests.realapps.settings``.
"""

from __future__ import annotations

import contextlib
import json
import sys
from io import StringIO
from typing import Any

import django
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

SCHEMA = """
    SELECT 'column', table_name, column_name || ' ' || data_type || ' ' || is_nullable
        || ' ' || coalesce(column_default, '')
    FROM information_schema.columns WHERE table_schema = 'public'
    UNION ALL
    SELECT 'constraint', conrelid::regclass::text, conname || ' ' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
    UNION ALL
    SELECT 'index', tablename, indexdef FROM pg_indexes WHERE schemaname = 'public'
    ORDER BY 1, 2, 3
"""


def snapshot(alias: str) -> dict[str, Any]:
    with connections[alias].cursor() as cursor:
        cursor.execute(SCHEMA)
        schema = [list(row) for row in cursor.fetchall()]
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
        rows = [list(row) for row in cursor.fetchall()]
    return {"schema": schema, "migrations": rows}


def run(command: str, alias: str, *args: str) -> str:
    """Run a command; return '' or the error it ended with."""
    try:
        call_command(command, *args, database=alias, verbosity=0, stdout=StringIO())
    except Exception as error:  # the comparison is about failing at the same place
        return f"{type(error).__name__}: {error}".splitlines()[0]
    return ""


def unseen(*target: str) -> list[str]:
    """Lint the step first: the operations whose SQL the analysis could not collect."""
    out = StringIO()
    # An error-level finding ends the lint in CommandError, its report printed all the same.
    with contextlib.suppress(CommandError):
        call_command("safemigrate", *target, lint=True, format="json", stdout=out)
    report = json.loads(out.getvalue())
    return [
        f"{migration['migration']} #{op['index']}: {op['sql_error']}"
        for migration in report["migrations"]
        for op in migration["operations"]
        if op["sql_error"]
    ]


def main() -> None:
    django.setup()
    base = ("contenttypes", "auth", "admin", "sessions", "safemigrate")
    for alias in ("default", "plain"):
        for app in base:
            run("migrate", alias, app)
    results = []
    for app in settings.REAL_APPS:
        for target in ((app,), (app, "zero")):
            sql_errors = unseen(*target)
            safe = run("safemigrate", "default", *target)
            plain = run("migrate", "plain", *target)
            results.append(
                {
                    "step": " ".join(target),
                    "sql_errors": sql_errors,
                    "safemigrate": {"error": safe, **snapshot("default")},
                    "migrate": {"error": plain, **snapshot("plain")},
                }
            )
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()

"""The pytest plugin as a project meets it: installed, not configured. In a pytest run of its
own (pytester), a small Django project's suite gets the ``migrator`` fixture, goes back across
an irreversible migration, and finds the latest state again in its next test; the migrations
check fails on an irreversible migration it was not told of, and on a broken migration after
one it was; a suite without pytest-django never loads Django, and asking it for the fixture
says what is missing."""

from __future__ import annotations

import os
from importlib.metadata import entry_points
from typing import Any

import pytest
from django.db import connection

PROJECT_TESTS = """
import factory
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

LATER = {"kitlater.0002_upper": "the names' case is not kept"}


def test_a_data_migration(migrator):
    before = migrator.apply("kitapp", "0001")
    item = before.get_model("kitapp", "Item")
    migrator.create_batch(item, 300, name=factory.Sequence(lambda n: f"item {n}"))

    after = migrator.apply("kitapp", "0002")

    upper = after.get_model("kitapp", "Item").objects.filter(name__startswith="ITEM ")
    assert upper.count() == 300


def test_going_back_across_an_irreversible_migration(migrator):
    before = migrator.apply("kitlater", "0001")
    item = before.get_model("kitlater", "Item")
    migrator.create_batch(item, 30, name=factory.Sequence(lambda n: f"item {n}"))

    after = migrator.apply("kitlater", "0002")

    assert after.get_model("kitlater", "Item").objects.filter(name="ITEM 7").exists()


def test_the_next_test_finds_the_latest_state(migrator):
    applied = MigrationRecorder(connection).applied_migrations()
    assert ("kitlater", "0003_note") in applied
    assert "kitlater_note" in connection.introspection.table_names()


def test_every_migration_is_reversible(migrator):
    migrator.check_migrations()


def test_an_acknowledged_irreversible_migration(migrator):
    migrator.check_migrations("kitlegacy", irreversible={"kitlegacy.0002_upper": "lost case"})


def test_a_broken_migration_after_an_acknowledged_one(migrator):
    migrator.check_migrations("kitlater", irreversible=LATER)
"""

INITIAL = """
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    operations = [
        migrations.CreateModel(
            name="Item",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100)),
            ],
        ),
    ]
"""

UPPER = """
from django.db import migrations


def upper(apps, schema_editor):
    item = apps.get_model("kitapp", "Item")
    for row in item.objects.using(schema_editor.connection.alias):
        row.name = row.name.upper()
        row.save()


class Migration(migrations.Migration):
    dependencies = [("kitapp", "0001_initial")]

    operations = [migrations.RunPython(upper, migrations.RunPython.noop)]
"""

#: An app of its own, so the data test can go back through ``kitapp`` without touching it.
IRREVERSIBLE = UPPER.replace("kitapp", "kitlegacy").replace(", migrations.RunPython.noop", "")

#: After an irreversible migration, one whose backwards step fails.
BROKEN_BACKWARDS = """
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("kitlater", "0002_upper")]

    operations = [
        migrations.RunSQL(
            "CREATE TABLE kitlater_note (id int)", "DROP TABLE kitlater_no_such_table"
        ),
    ]
"""

MODELS = """
from django.db import models


class Item(models.Model):
    name = models.CharField(max_length=100)
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A Django project with one app, on this test run's PostgreSQL server."""
    database = {**connection.settings_dict, "NAME": f"safemigrate_kit_{os.getpid()}"}
    database = {
        key: database[key] for key in ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT")
    }
    pytester.makepyfile(
        kitsettings=f"""
SECRET_KEY = "kit"
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "kitapp", "kitlegacy", "kitlater"]
DATABASES = {{"default": {database!r}}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
"""
    )
    apps = {
        "kitapp": {"0002_upper": UPPER},
        "kitlegacy": {"0002_upper": IRREVERSIBLE},
        "kitlater": {
            "0002_upper": IRREVERSIBLE.replace("kitlegacy", "kitlater"),
            "0003_note": BROKEN_BACKWARDS,
        },
    }
    for app, later in apps.items():
        pytester.mkpydir(app)
        pytester.mkpydir(f"{app}/migrations")
        migrations = {f"{app}/migrations/{name}": text for name, text in later.items()}
        pytester.makepyfile(
            **{f"{app}/models": MODELS, f"{app}/migrations/0001_initial": INITIAL, **migrations}
        )
    pytester.makeini("[pytest]\nDJANGO_SETTINGS_MODULE = kitsettings\npythonpath = .\n")
    # This run's settings module must not reach the project's run.
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    return pytester


def test_the_fixture_works_and_the_check_catches_what_a_rollback_would_trip_over(project):
    project.makepyfile(test_kit=PROJECT_TESTS)

    result = project.runpytest_subprocess("-p", "no:cacheprovider", "-v")

    result.assert_outcomes(passed=4, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*test_kit.py::test_a_data_migration PASSED*",
            "*test_kit.py::test_going_back_across_an_irreversible_migration PASSED*",
            "*test_kit.py::test_the_next_test_finds_the_latest_state PASSED*",
            "*test_kit.py::test_every_migration_is_reversible FAILED*",
            "*test_kit.py::test_an_acknowledged_irreversible_migration PASSED*",
            "*test_kit.py::test_a_broken_migration_after_an_acknowledged_one FAILED*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "E * AssertionError: kitlegacy.0002_upper is not reversible: *",
            "E * AssertionError: kitlater.0003_note failed when unapplying it: ProgrammingError: "
            'table "kitlater_no_such_table" does not exist*',
        ]
    )


def test_the_plugin_is_registered_for_pytest_by_installing_safemigrate():
    plugins = {entry.name: entry.value for entry in entry_points(group="pytest11")}

    assert plugins["safemigrate"] == "safemigrate.testing.plugin"


def test_a_suite_without_pytest_django_never_loads_django(pytester, monkeypatch):
    # Only this plugin: other installed plugins (some Django apps ship one) may load Django.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    pytester.makepyfile(
        test_plain="""
import sys


def test_plain():
    assert "django" not in sys.modules
""",
        test_asks=("def test_asks_for_the_fixture(migrator):\n    pass\n"),
    )

    result = pytester.runpytest_subprocess(
        "-p", "safemigrate.testing.plugin", "-p", "no:cacheprovider"
    )

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*The migrator fixture needs pytest-django*"])

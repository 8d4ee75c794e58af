"""A project whose migrations use none of safemigrate's operations does not pay for them at
start-up: every ``manage.py`` command loads the app, its admin and its checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from django.apps import apps

from safemigrate.ondisk import uses_safemigrate_operations

ROOT = Path(__file__).resolve().parents[1]

STARTUP = """
import json, sys
import django
from django.core.management import call_command
django.setup()
call_command("check", verbosity=0)
print(json.dumps(sorted(m for m in sys.modules if m.startswith("safemigrate"))))
"""


def loaded_at_startup(settings_module: str) -> set[str]:
    """The safemigrate modules a process has imported after set-up and the system checks."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "PYTHONPATH": str(ROOT),
        # The real apps' settings name their databases from these; the checks run connect to none.
        "REAL_SAFE_DATABASE": "unused",
        "REAL_PLAIN_DATABASE": "unused",
    }
    done = subprocess.run(
        [sys.executable, "-c", STARTUP], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def only_migrations(settings: Any, **modules: str) -> None:
    """Leave no app any migrations but the ``modules`` given (app label: module path)."""
    settings.MIGRATION_MODULES = {
        **{config.label: None for config in apps.get_app_configs()},
        **modules,
    }


def migrations_package(tmp_path: Path, monkeypatch: Any, name: str, source: str) -> str:
    """Write an importable migrations package ``name`` holding ``0001_initial`` = ``source``."""
    package = tmp_path / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "0001_initial.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def test_real_apps_start_without_the_operations_or_the_analysis() -> None:
    loaded = loaded_at_startup("tests.realapps.settings")

    assert {"safemigrate.checks", "safemigrate.admin.reviews", "safemigrate.models"} <= loaded
    heavy = ("safemigrate.operations", "safemigrate.analysis", "safemigrate.guard")
    assert [module for module in loaded if module.startswith(heavy)] == []


def test_migrations_with_only_djangos_operations_use_none(settings: Any) -> None:
    only_migrations(settings, scenarioapp="tests.scenarios.basic")
    assert not uses_safemigrate_operations()


def test_an_operation_by_its_old_module_path_is_seen(settings: Any) -> None:
    only_migrations(settings, scenarioapp="tests.scenarios.oldpaths")
    assert uses_safemigrate_operations()


def test_a_subclass_of_an_operation_is_seen(settings: Any, tmp_path: Path, monkeypatch) -> None:
    tuned = migrations_package(
        tmp_path,
        monkeypatch,
        "tuned_migrations",
        """
        from django.db import migrations, models
        from safemigrate.operations import AddIndexConcurrently

        class TunedIndex(AddIndexConcurrently):
            pass

        class Migration(migrations.Migration):
            atomic = False
            operations = [
                migrations.CreateModel("Item", [("id", models.BigAutoField(primary_key=True))]),
                TunedIndex("item", models.Index(fields=["id"], name="tuned_idx")),
            ]
        """,
    )
    only_migrations(settings, scenarioapp=tuned)
    assert uses_safemigrate_operations()


def test_a_migration_file_that_does_not_import_counts_as_using_them(
    settings: Any, tmp_path: Path, monkeypatch
) -> None:
    broken = migrations_package(
        tmp_path, monkeypatch, "broken_migrations", "import no_such_module\n"
    )
    only_migrations(settings, scenarioapp=broken)
    assert uses_safemigrate_operations()

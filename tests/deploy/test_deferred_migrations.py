"""A project switching from django-deferred-migrations keeps its migrations as they are.

Its operations keep what old code uses and queue the drop; safemigrate runs the migration
in the pre phase (they subclass RemoveField, which alone would be post-deploy), and the
queued drop stays for the package's own ``migrate_post_deploy``. Runs in a subprocess:
the package must be an installed app (Python 3.12+ only).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from tests.backfill.backfill_helpers import ROOT, database_url
from tests.conftest import columns
from tests.deploy.test_phases import applied

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        importlib.util.find_spec("deferred_migrations") is None,
        reason="django-deferred-migrations needs Python 3.12+",
    ),
]


def manage(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "tests.deferred_settings",
        "SAFEMIGRATE_TEST_MIGRATIONS": "phases_deferred",
        "SAFEMIGRATE_TEST_SETTINGS": '{"LIVE_PROCESS_GATE": false}',
    }
    return subprocess.run(
        [sys.executable, "-m", "django", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_deferred_removal_runs_in_the_pre_phase_and_its_drop_stays_queued(scenario):
    scenario("phases_deferred")
    try:
        # The analysis cannot render these operations' SQL (they refuse to run outside a
        # real migration): it judges them from the operation alone and lets the run go on.
        pre = manage("safemigrate", "scenarioapp", "--phase", "pre")
        assert pre.returncode == 0, pre.stderr
        assert "Held for" not in pre.stdout
        assert applied() == ["0001_initial", "0002_remove_item_legacy_ref"]
        assert "legacy_ref" in columns("scenarioapp_item")  # old code still reads it
        post = manage("migrate_post_deploy")
        assert post.returncode == 0, post.stderr
        assert "legacy_ref" not in columns("scenarioapp_item")
    finally:
        manage("safemigrate", "deferred_migrations", "zero")

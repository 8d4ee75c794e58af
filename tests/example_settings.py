"""The example project's settings on a database of the test run's own (``EXAMPLE_DATABASE``).

Tests run the example project's ``manage.py`` in a subprocess against this database, which
they create and drop, so the demo's own database is never touched.
"""

from __future__ import annotations

import json
import os

from example_project.settings import *  # noqa: F403
from example_project.settings import DATABASES

DATABASES["default"]["NAME"] = os.environ["EXAMPLE_DATABASE"]
SAFEMIGRATE = json.loads(os.environ.get("SAFEMIGRATE_TEST_SETTINGS", "{}"))
# manage.py demo drops and recreates only DEMO_DATABASE: here, the test's own database.
DEMO_DATABASE = DATABASES["default"]["NAME"]
# The local server trusts its clients, so a password here is ignored by it; the runbook must
# never print it.
DATABASES["default"]["PASSWORD"] = os.environ.get("EXAMPLE_PASSWORD", "")
# A test points the shop at another package of its migrations: a release before this one.
if os.environ.get("EXAMPLE_MIGRATIONS"):
    MIGRATION_MODULES = {"shop": os.environ["EXAMPLE_MIGRATIONS"]}

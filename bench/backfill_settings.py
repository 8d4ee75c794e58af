"""Settings for the backfill benchmark: safemigrate plus one products table.

``SAFEMIGRATE_BENCH_METHOD`` (``update``, ``offset`` or ``safemigrate``) chooses the migrations
package whose ``0002`` fills ``price_cents``. The database is the benchmark's own, as for
``bench/settings.py``; ``SAFEMIGRATE_BENCH_SETTINGS`` (JSON) may change safemigrate's settings.
"""

from __future__ import annotations

import json
import os

import dj_database_url

import devdb

BENCH_DATABASE = os.environ.get("SAFEMIGRATE_BENCH_DATABASE", "safemigrate_bench_backfill")
METHOD = os.environ.get("SAFEMIGRATE_BENCH_METHOD", "safemigrate")

SECRET_KEY = "safemigrate-bench-not-a-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"

# safemigrate's reviews refer to auth's users.
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "safemigrate",
    "bench.backfillapp",
]
MIGRATION_MODULES = {"backfillapp": f"bench.backfillapp.migrations_{METHOD}"}

DATABASES = {
    "default": {**dj_database_url.parse(devdb.database_url()), "NAME": BENCH_DATABASE},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SAFEMIGRATE = json.loads(os.environ.get("SAFEMIGRATE_BENCH_SETTINGS", "{}"))

"""Settings for the lock-stall benchmark: safemigrate plus one app with a hot table.

The server is the one ``devdb`` names (``DATABASE_URL`` or the embedded PostgreSQL), but the
database is the benchmark's own (``SAFEMIGRATE_BENCH_DATABASE``, default
``safemigrate_bench_stall``), which the benchmark creates and empties between runs: it never
writes into anyone else's.
``SAFEMIGRATE_BENCH_SETTINGS`` (JSON) lets a variant change safemigrate's settings; the headline
figures use none, i.e. safemigrate's defaults.
"""

from __future__ import annotations

import json
import os

import dj_database_url

import devdb

BENCH_DATABASE = os.environ.get("SAFEMIGRATE_BENCH_DATABASE", "safemigrate_bench_stall")

SECRET_KEY = "safemigrate-bench-not-a-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    # safemigrate's reviews refer to users: it needs auth (and so contenttypes).
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "safemigrate",
    "bench.benchapp",
]

_SERVER = dj_database_url.parse(devdb.database_url())
DATABASES = {
    "default": {
        **_SERVER,
        "NAME": BENCH_DATABASE,
        # So that the benchmark can watch the migration's sessions in pg_stat_activity.
        "OPTIONS": {**_SERVER.get("OPTIONS", {}), "application_name": "bench migration"},
    },
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SAFEMIGRATE = json.loads(os.environ.get("SAFEMIGRATE_BENCH_SETTINGS", "{}"))

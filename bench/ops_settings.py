"""Settings for bench/operations.py: bench.settings, with the migrations of one seed type.

``SAFEMIGRATE_BENCH_MIGRATIONS`` names the package of ``benchapp`` migrations to apply (written
by bench/operations.py); ``SAFEMIGRATE_BENCH_PEER=zero-downtime`` swaps in the database backend
of django-pg-zero-downtime-migrations with the settings its README recommends.
"""

from __future__ import annotations

import os

from bench.settings import *  # noqa: F403
from bench.settings import DATABASES

MIGRATION_MODULES = {"benchapp": os.environ["SAFEMIGRATE_BENCH_MIGRATIONS"]}

if os.environ.get("SAFEMIGRATE_BENCH_PEER") == "zero-downtime":
    DATABASES["default"]["ENGINE"] = "django_zero_downtime_migrations.backends.postgres"
    ZERO_DOWNTIME_MIGRATIONS_LOCK_TIMEOUT = "2s"
    ZERO_DOWNTIME_MIGRATIONS_STATEMENT_TIMEOUT = "2s"
    ZERO_DOWNTIME_MIGRATIONS_FLEXIBLE_STATEMENT_TIMEOUT = True
    ZERO_DOWNTIME_MIGRATIONS_RAISE_FOR_UNSAFE = True

"""The real apps of ``tests/realapps`` plus the benchmark app, on the benchmark's own database.

``overhead.py`` applies their whole history (Django's contrib apps, pgtrigger, safemigrate,
taggit, guardian, post_office, constance, easy_thumbnails, filer) from an empty database,
and times a run that applies one small migration (``benchapp 0002_account_note``) on top of
it all.
"""

from __future__ import annotations

import json
import os

BENCH_DATABASE = os.environ.get("SAFEMIGRATE_BENCH_DATABASE", "safemigrate_bench_overhead")
# tests/realapps/settings.py names its two databases from these; the benchmark uses one.
os.environ.setdefault("REAL_SAFE_DATABASE", BENCH_DATABASE)
os.environ.setdefault("REAL_PLAIN_DATABASE", BENCH_DATABASE)

from tests.realapps.settings import *  # noqa: E402, F403
from tests.realapps.settings import DATABASES, INSTALLED_APPS  # noqa: E402

INSTALLED_APPS = [*INSTALLED_APPS, "bench.benchapp"]
DATABASES = {"default": {**DATABASES["default"], "NAME": BENCH_DATABASE}}
SAFEMIGRATE = json.loads(os.environ.get("SAFEMIGRATE_BENCH_SETTINGS", "{}"))

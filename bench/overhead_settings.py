"""The example project's settings, pointed at the benchmark's own database.

``overhead.py`` applies the example project's whole history from an empty database, over and
over; it must not use ``safemigrate_demo``, which ``./dev demo`` owns.
"""

from __future__ import annotations

import json
import os

from example_project.settings import *  # noqa: F403
from example_project.settings import DATABASES

BENCH_DATABASE = os.environ.get("SAFEMIGRATE_BENCH_DATABASE", "safemigrate_bench_overhead")
DATABASES = {"default": {**DATABASES["default"], "NAME": BENCH_DATABASE}}

# The example project sets none: safemigrate's defaults, unless a variant asks otherwise.
SAFEMIGRATE = json.loads(os.environ.get("SAFEMIGRATE_BENCH_SETTINGS", "{}"))

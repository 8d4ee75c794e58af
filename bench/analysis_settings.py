"""Settings for bench/analysis.py: the test settings plus the apps whose migrations it lints.

``BENCH_CASE`` points ``scenarioapp`` at one exported corpus case; the generated apps live
in ``bench/.work`` (see ``bench/analysis.py``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

WORK = Path(__file__).resolve().parent / ".work"
sys.path.insert(0, str(WORK))

INSTALLED_APPS = [*INSTALLED_APPS, "django_migration_linter", "example_project.shop"]
if (WORK / "synthapp").is_dir():
    INSTALLED_APPS.append("synthapp")

_CASE = os.environ.get("BENCH_CASE")
MIGRATION_MODULES = {"scenarioapp": f"benchcases.{_CASE}" if _CASE else None}
MIGRATION_LINTER_OPTIONS = {"no_cache": True}

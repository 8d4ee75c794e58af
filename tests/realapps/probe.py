"""Run a module of the tests in a child process with other settings, and read its JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.test_command import _database_url as database_url

ROOT = Path(__file__).resolve().parents[2]


def run_json(module: str, settings: str, **env: str) -> Any:
    """Run ``python -m module`` with ``settings`` on the test server; return its last line's
    JSON (the child fails the test if it fails)."""
    done = subprocess.run(
        [sys.executable, "-m", module],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url(),
            "DJANGO_SETTINGS_MODULE": settings,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])

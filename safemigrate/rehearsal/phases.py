"""Run one phase of the rehearsal (apply, rollback, re-apply) on the copy, in a child process.

A child per phase keeps the real connection untouched: the child's Django points the same
alias at the copy before anything connects (``phase.py``). The child inherits this process's
settings module, environment and import path, so it loads the same project.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safemigrate.exceptions import ExitCode

#: The command's guard options a rehearsal hands on to each phase.
FORWARDED = {
    "lock_timeout": "--lock-timeout",
    "lock_timeout_max": "--lock-timeout-max",
    "statement_timeout": "--statement-timeout",
    "retries": "--retries",
    "phase": "--phase",
}


@dataclass
class PhaseResult:
    """What one phase did: its exit code and error, its migrations and their operations."""

    name: str
    exit_code: int
    error: str
    seconds: float
    summary: dict[str, Any] | None
    operations: list[dict[str, Any]] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.exit_code == ExitCode.OK

    @property
    def refused(self) -> bool:
        return self.exit_code == ExitCode.REFUSED

    def failed_postconditions(self) -> list[str]:
        """Describe the postconditions that failed in this phase."""
        migrations = (self.summary or {}).get("migrations", [])
        return [
            f"{m['app_label']}.{m['name']}: {check['description']} "
            f"(expected {check['expected']}, got {check['actual']}{check['error'] and ', '}"
            f"{check['error']})"
            for m in migrations
            for check in m.get("postconditions", [])
            if not check["passed"]
        ]

    def applied(self) -> list[str]:
        """The migrations this phase applied or unapplied, as ``app.name``."""
        migrations = (self.summary or {}).get("migrations", [])
        return [f"{m['app_label']}.{m['name']}" for m in migrations if m["status"] == "succeeded"]


def command_args(options: Mapping[str, Any], rollback: bool) -> list[str]:
    """Return the ``safemigrate`` arguments of a phase: the plan's, or ``--rollback``."""
    args = ["--database", str(options.get("database") or "default"), "--noinput"]
    if rollback:
        return [*args, "--rollback"]
    args += [str(options[key]) for key in ("app_label", "migration_name") if options.get(key)]
    for key, flag in FORWARDED.items():
        if options.get(key) is not None:
            args += [flag, str(options[key])]
    return [*args, "--allow-unsafe", *(["--no-preflight"] if options.get("no_preflight") else [])]


def run_phase(name: str, alias: str, database: str, args: list[str]) -> PhaseResult:
    """Run ``safemigrate args`` on ``database`` in a child process and read what it did."""
    with tempfile.TemporaryDirectory(prefix="safemigrate-rehearsal-") as folder:
        out = Path(folder) / "result.json"
        spec = {"alias": alias, "database": database, "args": args, "out": str(out),
                "parent": os.getpid()}  # fmt: skip
        started = time.perf_counter()
        child = subprocess.run(
            [sys.executable, "-m", "safemigrate.rehearsal.phase", json.dumps(spec)],
            env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, sys.path))},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
        if not out.exists():
            error = child.stderr.strip().splitlines()[-1:] or [f"exit code {child.returncode}"]
            return PhaseResult(name, child.returncode or 1, error[0], seconds, None)
        result = json.loads(out.read_text())
    return PhaseResult(
        name,
        result["exit_code"],
        result["error"],
        seconds,
        result["summary"],
        result["operations"],
        result["fingerprints"],
    )

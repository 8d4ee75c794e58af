"""One phase of a rehearsal, in a child process: ``safemigrate`` on the copy, each operation timed.

The parent passes a JSON spec as the one argument: the database alias, the copy's name, the
command's arguments and the file to write the result to. Before Django sets up, the alias is
pointed at the copy, and the gates a rehearsal must not wait for (approvals, maintenance
windows, live processes, backups) are turned off: the guards themselves (timeouts, retries,
pre-flight, the history) run as they would on the real database. Each operation's
``database_forwards`` or ``database_backwards`` is timed; an atomic migration retried after a
lock timeout keeps the time of its last attempt.

On Linux the child asks to be killed with its parent, so a killed rehearsal leaves no child
working on its copy.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any, cast

#: What a rehearsal turns off: gates that decide *whether* to run, not *how*.
GATES_OFF = {
    "REQUIRE_APPROVAL": None,
    "MAINTENANCE_WINDOWS": None,
    "LIVE_PROCESS_GATE": False,
    "BACKUP": False,
}
_PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> int:
    spec = json.loads(argv[1])
    _die_with_parent(int(spec["parent"]))
    import django
    from django.conf import settings

    cast("dict[str, Any]", settings.DATABASES[spec["alias"]])["NAME"] = spec["database"]
    settings.SAFEMIGRATE = {**getattr(settings, "SAFEMIGRATE", {}), **GATES_OFF}
    django.setup()
    timings: dict[tuple[str, str, int], dict[str, Any]] = {}
    fingerprints = _time_operations(spec["alias"], timings)
    result = _run(spec["args"])
    result["operations"] = list(timings.values())
    result["fingerprints"] = fingerprints
    Path(spec["out"]).write_text(json.dumps(result, default=str))
    return 0


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)  # the parent died before we asked: nobody wants this phase


def _run(args: list[str]) -> dict[str, Any]:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    out, err = StringIO(), StringIO()
    code, error = 0, ""
    try:
        call_command("safemigrate", *args, "--json", "--no-color", stdout=out, stderr=err)
    except CommandError as failure:
        code, error = failure.returncode or 1, str(failure)
    except Exception as failure:  # a crash is a failed phase, reported with its message
        code, error = 1, f"{type(failure).__name__}: {failure}"
    try:
        summary = json.loads(out.getvalue() or "null")
    except json.JSONDecodeError:
        summary = None
    return {"exit_code": code, "error": error, "summary": summary, "output": err.getvalue()}


def _time_operations(
    alias: str, timings: dict[tuple[str, str, int], dict[str, Any]]
) -> dict[str, str]:
    """Wrap each operation of every migration on disk; return each migration's fingerprint.

    A migration class's operations are the objects every later load of the module uses.
    """
    from django.db import connections
    from django.db.migrations.loader import MigrationLoader

    from safemigrate.review.reviews import fingerprint

    loader = MigrationLoader(connections[alias], ignore_no_migrations=True, load=False)
    loader.load_disk()
    found = {}
    for (app_label, name), migration in loader.disk_migrations.items():
        found[f"{app_label}.{name}"] = fingerprint(migration)
        for index, operation in enumerate(migration.operations, 1):
            for direction in ("forwards", "backwards"):
                method = f"database_{direction}"
                key = (app_label, name, index)
                wrapped = _timed(getattr(operation, method), timings, key, direction, operation)
                setattr(operation, method, wrapped)
    return found


def _timed(
    original: Callable[..., Any],
    timings: dict[tuple[str, str, int], dict[str, Any]],
    key: tuple[str, str, int],
    direction: str,
    operation: Any,
) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            entry = timings.setdefault(
                key,
                {
                    "migration": f"{key[0]}.{key[1]}",
                    "index": key[2],
                    "description": operation.describe(),
                },
            )
            entry[f"{direction}_ms"] = round((time.perf_counter() - started) * 1000, 1)

    return run


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""What both benchmarks share: the database they own, Django as a child process, statistics.

Both scripts run every ``migrate`` and ``safemigrate`` as ``python -m django ...`` in a child
process, as a deploy would, so that what is timed includes everything the command does and
nothing the benchmark does.
"""

from __future__ import annotations

import math
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import django
import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
# Written on the database at creation: only a database bearing it is ever emptied.
MARKER = "created by safemigrate's bench/ scripts; safe to drop"


def server_url() -> str:
    """Return ``DATABASE_URL``, else the URL of the embedded server (started if needed)."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    # Imported here: it is importable only from the repository root, and starts a server.
    import devdb

    return devdb.database_url()


@dataclass(frozen=True)
class BenchDatabase:
    """The benchmark's own database on the chosen server."""

    url: str
    name: str

    @property
    def conninfo(self) -> str:
        """A libpq connection string for this database (the URL with its name replaced)."""
        return make_conninfo(self.url, dbname=self.name)

    def child_env(self, **extra: str) -> dict[str, str]:
        """Return the environment of a Django child process that must use this database.

        The URL is passed resolved, so children never start (or wait for) the embedded server.
        """
        return {
            **os.environ,
            "DATABASE_URL": self.url,
            "SAFEMIGRATE_BENCH_DATABASE": self.name,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            **extra,
        }

    def connect(
        self, *, autocommit: bool = True, app: str = "safemigrate bench"
    ) -> psycopg.Connection:
        """Open a connection to the benchmark's database."""
        return psycopg.connect(self.conninfo, autocommit=autocommit, application_name=app)

    def ensure(self) -> None:
        """Create the database if it is missing; refuse one that the benchmark did not create."""
        with psycopg.connect(self.url, autocommit=True) as admin:
            if self._marker(admin) is None:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))
                admin.execute(
                    sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                        sql.Identifier(self.name), sql.Literal(MARKER)
                    )
                )
            self._check_ours(admin)

    def reset(self) -> None:
        """Empty the database: drop and recreate its ``public`` schema.

        Emptying the schema rather than dropping the database needs no right beyond owning it.
        The marker is checked every time: another program may have dropped and recreated a
        database of the same name since the benchmark started.
        """
        with psycopg.connect(self.url, autocommit=True) as admin:
            self._check_ours(admin)
        with self.connect() as conn:
            conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
            conn.execute("CREATE SCHEMA public")

    def _marker(self, admin: psycopg.Connection[Any]) -> tuple[str | None] | None:
        """Return the database's comment as a 1-tuple, or None when there is no such database."""
        return admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [self.name],
        ).fetchone()

    def _check_ours(self, admin: psycopg.Connection[Any]) -> None:
        """Stop unless the database bears the benchmark's mark: it may hold someone's data."""
        marker = self._marker(admin)
        if marker is None or marker[0] != MARKER:
            raise SystemExit(
                f"Database {self.name!r} was not created by the benchmark, which empties its "
                "database between runs. Fix: pass --database with another name."
            )

    def server_version(self) -> str:
        """Return the server's version, e.g. ``15.20``, for the results."""
        with self.connect() as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]).split()[0] if row else "?"


def bench_database(name: str) -> BenchDatabase:
    """Return the benchmark's database ``name`` on the chosen server, created if needed."""
    database = BenchDatabase(server_url(), name)
    database.ensure()
    return database


def django_args(command: str, *args: str, settings: str, module: str = "django") -> list[str]:
    """Return the argv that runs ``command`` as ``python -m django`` (or ``module``) with
    ``settings``."""
    return [sys.executable, "-m", module, command, *args, f"--settings={settings}"]


@dataclass(frozen=True)
class Finished:
    """A Django command that ran in a child process: how it ended and how long it took."""

    argv: Sequence[str]
    returncode: int
    seconds: float
    stdout: str
    stderr: str
    #: The child's CPU time (user and system): on a shared machine, far steadier than the wall
    #: time, though it leaves out what the database server did for it.
    cpu_seconds: float = 0.0


def compile_checkout(root: Path) -> None:
    """Write the bytecode of a checkout's packages, as installing a package from a wheel does.

    The checkout is imported from source, and on a machine that sets
    ``PYTHONDONTWRITEBYTECODE`` every child process would compile safemigrate (about 0.1 s)
    while Django's bytecode came with it: a cost of the benchmark's set-up, not of the tool.
    """
    folders = [str(root / name) for name in ("safemigrate", "bench", "tests")]
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", *folders],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def run_django(
    command: str,
    *args: str,
    settings: str,
    env: Mapping[str, str],
    timeout: float = 600,
    check: bool = True,
    cwd: Path = ROOT,
    module: str = "django",
) -> Finished:
    """Run a Django command to completion and time it from launch to exit.

    ``cwd`` is where it runs, and so which checkout's packages it imports first; ``module``
    what runs it (``python -m django`` by default).
    """
    argv = django_args(command, *args, settings=settings, module=module)
    started = time.perf_counter()
    cpu_before = _children_cpu()
    result = subprocess.run(
        argv, cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False
    )
    finished = Finished(
        argv,
        result.returncode,
        time.perf_counter() - started,
        result.stdout,
        result.stderr,
        _children_cpu() - cpu_before,
    )
    if check and result.returncode:
        raise SystemExit(
            f"{' '.join(argv[2:])} failed with exit code {result.returncode}:\n{result.stderr}"
        )
    return finished


def _children_cpu() -> float:
    """The CPU time of every child process waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Return the nearest-rank percentile of already sorted values (0.0 when there are none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def environment() -> dict[str, str]:
    """Describe the machine and versions, so a reader can tell whose figures they are."""
    return {
        "python": platform.python_version(),
        "django": django.get_version(),
        "cpus": str(os.cpu_count() or "?"),
        "platform": platform.platform(terse=True),
    }


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Format rows as a GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Format rows as aligned columns for a terminal."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in [header, *rows]
    )


def save_results(kind: str, text: str, suffix: str = ".md") -> Path:
    """Write a run's report to ``bench/results/`` (git-ignored) and return its path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"{kind}-{stamp}{suffix}"
    path.write_text(text + "\n")
    return path

"""Each seed migration type on a busy table: plain migrate, the peer, safemigrate's operations.

For every seed type and tool, from the same starting state (``benchapp_account`` filled with
``--rows`` rows, ``--clients`` client processes reading and updating it by primary key):

- ``migrate``: the migration as ``makemigrations`` writes it, applied by plain ``migrate``;
- ``zero-downtime``: the same migration, applied by ``migrate`` on the database backend of
  django-pg-zero-downtime-migrations with the settings its README recommends;
- ``safemigrate``: the migrations written with safemigrate's operations, applied by
  ``safemigrate`` with its default settings.

Reported per type and tool: the clients' worst stall and p99 while the tool ran, the tool's
wall time, and whether it applied. django-deferred-migrations is not measured (see
bench/README-operations.md).

    python bench/operations.py                      # 1M rows, 4 clients, every type
    python bench/operations.py --rows 20000 --types "add index"   # a quick look
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as ``python bench/operations.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.lock_stall import collect, prepare, start_clients
from bench.ops_migrations import TYPES, write_package
from bench.stall_report import Stats

SETTINGS = "bench.ops_settings"
DATABASE = "safemigrate_bench_operations"
INITIAL = common.ROOT / "bench" / "benchapp" / "migrations" / "0001_initial.py"
BASELINE_S = 1.0
TAIL_S = 0.5
TOOLS = ("migrate", "zero-downtime", "safemigrate")
TARGET_MS = 25.0


@dataclass(frozen=True)
class Result:
    seed_type: str
    tool: str
    baseline: Stats
    stats: Stats
    wall_s: float
    applied: bool
    error: str


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the table (1000000)")
    parser.add_argument("--clients", type=int, default=4, help="client processes (4)")
    parser.add_argument("--rate", type=float, default=100.0, help="ops/s per client (100)")
    parser.add_argument("--update-share", type=float, default=0.5, help="UPDATE share (0.5)")
    parser.add_argument("--types", default=",".join(TYPES), help="comma-separated seed types")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated tools")
    parser.add_argument("--database", default=DATABASE, help="the benchmark's own database")
    return parser.parse_args(argv)


def commands(tool: str, names: list[str]) -> list[list[str]]:
    """Return the Django command that applies the package's migrations with ``tool``.

    One command for all of a type's migrations, as one deploy would run them (the contract
    steps belong in a later deploy; here they are timed together, to the tool's cost).
    """
    command = "safemigrate" if tool == "safemigrate" else "migrate"
    return [[command, "benchapp", names[-1], "--noinput"]]


def applied(database: common.BenchDatabase, names: list[str]) -> bool:
    with database.connect() as conn:
        rows = conn.execute(
            "SELECT name FROM django_migrations WHERE app = 'benchapp' AND name = ANY(%s)",
            [names],
        ).fetchall()
    return len(rows) == len(names)


def run_one(
    database: common.BenchDatabase,
    seed_type: str,
    tool: str,
    args: argparse.Namespace,
    tmp: Path,
) -> Result:
    """Measure one tool on one seed type, from a freshly filled table."""
    plain, safe = TYPES[seed_type]
    package = f"opsbench_{len(list(tmp.iterdir()))}"
    migrations = safe if tool == "safemigrate" else plain
    names = write_package(tmp / package, INITIAL.read_text(), migrations)
    print(f"\n== {seed_type} / {tool}: preparing {args.rows:,} rows")
    prepare(database, args.rows)
    env = database.child_env(
        SAFEMIGRATE_BENCH_MIGRATIONS=package,
        SAFEMIGRATE_BENCH_PEER=tool,
        PYTHONPATH=f"{tmp}:{common.ROOT}",
    )
    deadline = time.time() + 900
    processes, stop, out = start_clients(database, args, deadline)
    clients_ready = time.time()
    time.sleep(BASELINE_S)
    started, error = time.time(), ""
    for command in commands(tool, names):
        finished = common.run_django(*command, settings=SETTINGS, env=env, check=False)
        if finished.returncode:
            error = (finished.stderr.strip().splitlines() or ["?"])[-1][:160]
            break
    ended = time.time()
    time.sleep(TAIL_S)
    stop.set()
    clients = collect(processes, out)
    stats = Stats.of(clients, started, ended + TAIL_S)
    baseline = Stats.of(clients, clients_ready + 0.2, started)
    result = Result(
        seed_type, tool, baseline, stats, ended - started, applied(database, names), error
    )
    print(
        f"   worst {stats.worst_ms:.0f} ms, p99 {stats.p99_ms:.1f} ms, wall {result.wall_s:.2f} s,"
        f" applied: {'yes' if result.applied else 'no: ' + error}"
    )
    return result


def report(results: list[Result], args: argparse.Namespace, server: str) -> str:
    header = [
        "seed type",
        "tool",
        "applied",
        "worst stall ms",
        "p99 ms",
        "wall s",
        "baseline worst / p99 ms",
    ]
    rows = [
        [
            r.seed_type,
            r.tool,
            "yes" if r.applied else f"no ({r.error})",
            f"{r.stats.worst_ms:.0f}",
            f"{r.stats.p99_ms:.1f}",
            f"{r.wall_s:.2f}",
            f"{r.baseline.worst_ms:.0f} / {r.baseline.p99_ms:.1f}",
        ]
        for r in results
    ]
    setup = (
        f"{args.rows:,} rows, {args.clients} clients at {args.rate:g} ops/s each "
        f"({args.update_share:.0%} UPDATEs), PostgreSQL {server}. Target: worst stall "
        f"<= {TARGET_MS:g} ms for safemigrate on every type. The baseline is the same clients "
        "in the second before the tool started, with no migration running: the machine's noise."
    )
    return f"# Safe operations benchmark\n\n{setup}\n\n{common.markdown_table(header, rows)}\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    database = common.bench_database(args.database)
    server = database.server_version()
    results = []
    with tempfile.TemporaryDirectory(prefix="opsbench") as directory:
        for seed_type in args.types.split(","):
            for tool in args.tools.split(","):
                results.append(run_one(database, seed_type, tool, args, Path(directory)))
    text = report(results, args, server)
    print("\n" + text)
    path = common.save_results("operations", text)
    print(f"saved to {path.relative_to(common.ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""How long do clients stall when a migration meets a long transaction? migrate vs safemigrate.

For each tool, from the same starting state: a populated ``benchapp_account`` table, client
processes reading and updating it by primary key, and a long transaction (a "report") that
read the table and keeps its ACCESS SHARE lock for ``--blocker-seconds``. Half a second into
the blocker, the tool applies ``benchapp 0002`` (ADD COLUMN ... NULL, which needs ACCESS
EXCLUSIVE). Reported per tool: the clients' worst stall, p99 and p50, how many operations they
completed, the migration's wall time, and whether it applied.

    python bench/lock_stall.py                                 # 1M rows, 8 s blocker
    python bench/lock_stall.py --rows 10000 --blocker-seconds 2  # a quick look

The database is ``DATABASE_URL``'s server (else the embedded one), in a database of the
benchmark's own (``--database``, default ``safemigrate_bench_stall``). See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg

if __package__ in (None, ""):  # run as ``python bench/lock_stall.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.stall_report import (
    CONTEXT_HEADER,
    HEADER,
    TARGET,
    MigrationRun,
    Outcome,
    Stats,
    Tool,
    context_row,
    report,
    row,
    verdict,
)
from bench.workload import (
    TABLE,
    Blocker,
    ClientPlan,
    ClientSamples,
    MigrationWatcher,
    run_client,
)

SETTINGS = "bench.settings"
#: Its own database, so that it can run alongside overhead.py (and other benchmarks).
DATABASE = "safemigrate_bench_stall"
NEW_COLUMN = "note"
BASELINE_S = 1.0  # traffic with no blocker and no migration, for comparison
TAIL_S = 1.0  # traffic after both are gone: the queue behind a migration drains here


TOOLS = {
    "migrate": Tool("migrate", "migrate", {}),
    "safemigrate": Tool("safemigrate", "safemigrate", {}),
    # For analysis only: the retry loop alone, without waiting outside the lock queue.
    "safemigrate-no-preflight": Tool(
        "safemigrate-no-preflight", "safemigrate", {"PREFLIGHT": False}
    ),
}


def add_traffic_arguments(parser: argparse.ArgumentParser, database: str) -> None:
    """Add the options every stall benchmark shares: table, clients, tools, database."""
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the table (1000000)")
    parser.add_argument("--clients", type=int, default=4, help="client processes (4)")
    parser.add_argument(
        "--rate",
        type=float,
        default=100.0,
        help="operations per second per client, 0 for as fast as possible (100)",
    )
    parser.add_argument(
        "--update-share",
        type=float,
        default=0.5,
        help="fraction of operations that are UPDATEs (0.5)",
    )
    parser.add_argument(
        "--tools",
        default="migrate,safemigrate",
        help=f"comma-separated, in order; choices: {', '.join(TOOLS)} (migrate,safemigrate)",
    )
    parser.add_argument("--database", default=database, help="the benchmark's own database name")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="LABEL=JSON",
        help="also run safemigrate with these SAFEMIGRATE settings, e.g. "
        '\'slow-backoff={"RETRY_BACKOFF": "400ms"}\' (repeatable; for investigations)',
    )


def select_tools(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Turn ``--tools`` and ``--variant`` into ``args.selected``, the Tools to run in order."""
    unknown = [name for name in args.tools.split(",") if name not in TOOLS]
    if unknown:
        parser.error(f"unknown tools {unknown}; choose from {', '.join(TOOLS)}")
    args.selected = [TOOLS[name] for name in args.tools.split(",")]
    for variant in args.variant:
        label, _, settings = variant.partition("=")
        try:
            args.selected.append(Tool(label, "safemigrate", json.loads(settings)))
        except ValueError as error:
            parser.error(f"--variant {variant!r}: the settings are not JSON ({error})")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the options, and turn ``--tools`` and ``--variant`` into the Tools to run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_traffic_arguments(parser, DATABASE)
    parser.add_argument(
        "--blocker-seconds",
        type=float,
        default=8.0,
        help="how long the long transaction stays open (8)",
    )
    parser.add_argument(
        "--migrate-after",
        type=float,
        default=0.5,
        help="seconds between the blocker taking its lock and the migration starting (0.5)",
    )
    parser.add_argument(
        "--trace",
        action="store_true",
        help="also write every operation (due time from the migration's start, latency) as CSV "
        "to bench/results/, to see when a stall happened",
    )
    args = parser.parse_args(argv)
    select_tools(parser, args)
    if args.migrate_after >= args.blocker_seconds:
        parser.error("--migrate-after must be shorter than --blocker-seconds")
    return args


def prepare(database: common.BenchDatabase, rows: int) -> None:
    """Put the database in the starting state: history tables, and the table at 0001, filled.

    Filling with one INSERT ... SELECT from generate_series takes seconds for millions of rows;
    VACUUM sets the visibility map and CHECKPOINT flushes the load, so that neither runs in the
    background while the clients are measured.
    """
    database.reset()
    env = database.child_env()
    common.run_django("migrate", "safemigrate", "--noinput", settings=SETTINGS, env=env)
    common.run_django(
        "migrate", "benchapp", "0001_initial", "--noinput", settings=SETTINGS, env=env
    )
    with database.connect() as conn:
        conn.execute(
            f"INSERT INTO {TABLE} (id, owner, balance) "
            "SELECT g, 'owner ' || g, 0 FROM generate_series(1, %s) AS g",
            [rows],
        )
        conn.execute(f"VACUUM (ANALYZE) {TABLE}")
        try:
            conn.execute("CHECKPOINT")
        except psycopg.Error as error:  # needs superuser or pg_checkpoint; only a nicety
            print(f"  (CHECKPOINT skipped: {error})")


def start_clients(
    database: common.BenchDatabase, args: argparse.Namespace, deadline: float
) -> tuple[list[multiprocessing.process.BaseProcess], Any, Any]:
    """Start the client processes and return once every one of them is connected."""
    context = multiprocessing.get_context("spawn")
    ready, stop, out = context.Queue(), context.Event(), context.Queue()
    processes: list[multiprocessing.process.BaseProcess] = []
    for seed in range(1, args.clients + 1):
        plan = ClientPlan(
            database.conninfo, args.rows, args.rate, args.update_share, seed, deadline
        )
        process = context.Process(target=run_client, args=(plan, ready, stop, out), daemon=True)
        process.start()
        processes.append(process)
    for _ in processes:
        ready.get(timeout=60)
    return processes, stop, out


def collect(
    processes: Sequence[multiprocessing.process.BaseProcess], out: Any
) -> list[ClientSamples]:
    """Receive every client's samples, then wait for the processes to exit."""
    clients = [ClientSamples.decode(*out.get(timeout=60)) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    return clients


def migration_applied(database: common.BenchDatabase) -> bool:
    """Return whether the column exists and Django recorded the migration as applied."""
    with database.connect() as conn:
        column = conn.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
            [TABLE, NEW_COLUMN],
        ).fetchone()
        recorded = conn.execute(
            "SELECT 1 FROM django_migrations WHERE app = %s AND name = %s", list(TARGET)
        ).fetchone()
    return column is not None and recorded is not None


def write_trace(tool: Tool, clients: Sequence[ClientSamples], origin: float) -> None:
    """Write each operation as ``client,due_s,latency_ms,delay_ms``, due times from ``origin``."""
    lines = ["client,due_s,latency_ms,delay_ms"]
    for number, samples in enumerate(clients, start=1):
        for due, latency, delay in zip(samples.due, samples.latency, samples.delay, strict=True):
            lines.append(f"{number},{due - origin:.4f},{latency * 1000:.3f},{delay * 1000:.3f}")
    path = common.save_results(f"trace-{tool.label}", "\n".join(lines), suffix=".csv")
    print(f"   trace: {path.relative_to(common.ROOT)}")


def attempts_of(tool: Tool, stdout: str) -> list[str]:
    """Return the outcome of each of safemigrate's attempts, from its ``--json`` summary."""
    if tool.command != "safemigrate":
        return []
    try:
        summary = json.loads(stdout)
    except ValueError:
        return ["(no summary)"]
    return [a["outcome"] for m in summary.get("migrations", []) for a in m.get("attempts", [])]


def migrate_under_blocker(
    database: common.BenchDatabase, tool: Tool, args: argparse.Namespace, blocker: Blocker
) -> MigrationRun:
    """Start the blocker, then the migration once the blocker holds its lock; wait for both."""
    timeout = args.blocker_seconds + 300
    blocker.start()
    blocker.locked.wait(timeout=60)
    time.sleep(args.migrate_after)
    watcher = MigrationWatcher(database.conninfo)
    migration = run_migration(database, tool, watcher, timeout)
    blocker.join(timeout=timeout)
    if blocker.error is not None:
        raise SystemExit(f"the {blocker.name} failed: {blocker.error}")
    return migration


def run_migration(
    database: common.BenchDatabase, tool: Tool, watcher: MigrationWatcher, timeout: float
) -> MigrationRun:
    """Run the tool's migration in a child process, watched from outside, and time it."""
    argv = common.django_args(tool.command, *tool.argv(), settings=SETTINGS)
    env = database.child_env(SAFEMIGRATE_BENCH_SETTINGS=json.dumps(tool.safemigrate_settings))
    print(f"   {' '.join(argv[2:])}")
    watcher.start()
    load = os.getloadavg()[0]
    started = time.time()
    child = subprocess.Popen(
        argv, cwd=common.ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        stdout, stderr = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        stdout, stderr = child.communicate()
    ended = time.time()
    watcher.stop()
    if watcher.error is not None:
        raise SystemExit(f"the {watcher.name} failed: {watcher.error}")
    return MigrationRun(started, ended, child.returncode, stdout, stderr, watcher.lock_wait_s, load)


def run_tool(database: common.BenchDatabase, tool: Tool, args: argparse.Namespace) -> Outcome:
    """Measure one tool, from a freshly prepared database to the clients' last operation."""
    print(f"\n== {tool.label}: preparing {args.rows:,} rows")
    prepare(database, args.rows)
    # Clients stop by themselves at this deadline even if the benchmark itself dies.
    deadline = time.time() + args.blocker_seconds + 360
    processes, stop, out = start_clients(database, args, deadline)
    clients_ready = time.time()
    time.sleep(BASELINE_S)
    print(f"   clients running; blocker holds the table for {args.blocker_seconds:g} s")
    blocker = Blocker(database.conninfo, args.blocker_seconds)
    migration = migrate_under_blocker(database, tool, args, blocker)
    time.sleep(TAIL_S)
    stop.set()
    clients_stop = time.time()
    clients = collect(processes, out)
    if args.trace:
        write_trace(tool, clients, migration.started)
    outcome = Outcome(
        tool=tool,
        migration=migration,
        blocker_end=blocker.ended_at,
        baseline=Stats.of(clients, clients_ready + 0.2, blocker.started_at),
        during=Stats.of(clients, blocker.started_at, clients_stop),
        applied=migration_applied(database),
        errors=sum(samples.errors for samples in clients),
        attempts=attempts_of(tool, migration.stdout),
    )
    print(
        f"   worst stall {outcome.during.worst_ms:.0f} ms, p99 {outcome.during.p99_ms:.1f} ms, "
        f"migration {outcome.migration_s:.2f} s, applied: {'yes' if outcome.applied else 'no'}"
    )
    return outcome


def main(argv: Sequence[str] | None = None) -> int:
    """Run every tool in turn on the same starting state, then report them side by side."""
    args = parse_args(argv)
    database = common.bench_database(args.database)
    server = database.server_version()
    outcomes = [run_tool(database, tool, args) for tool in args.selected]
    print()
    print(common.text_table(HEADER, [row(o) for o in outcomes]))
    print()
    print(common.text_table(CONTEXT_HEADER, [context_row(o) for o in outcomes]))
    print()
    print("\n".join(verdict(o) for o in outcomes if o.tool.command == "safemigrate"))
    path = common.save_results("lock_stall", report(outcomes, args, server))
    print(f"\nreport: {path.relative_to(common.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How a migration fares under a lock storm: when it applies, how long clients wait.

For each tool, from the same starting state: a populated ``benchapp_account`` table, client
processes reading and updating it by primary key, and a lock storm: sessions that keep
overlapping short read transactions open on the table (3 sessions, 400 ms each, for up to
75 s), so that no transaction is old yet the table's lock is never free. Two seconds into the
storm, the tool applies ``benchapp 0002`` (ADD COLUMN ... NULL, which needs ACCESS EXCLUSIVE).
Reported per tool: when the column was applied, counted from the migration's start; the
clients' worst query, p99 and p50 from the migration's start to its end; safemigrate's
attempts with their lock timeouts.

    python bench/storm.py                       # 1M rows, 5 runs of each tool
    python bench/storm.py --rows 100000         # a quicker look

The storm is stopped a second after the migration ends (or fails): what follows would change
no figure. The database is ``DATABASE_URL``'s server (else the embedded one), in a database
of the benchmark's own (``--database``, default ``safemigrate_bench_storm``). See
bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as ``python bench/storm.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.lock_stall import (
    NEW_COLUMN,
    add_traffic_arguments,
    collect,
    migration_applied,
    prepare,
    run_migration,
    select_tools,
    start_clients,
)
from bench.stall_report import MigrationRun, Stats, Tool, describe_attempts
from bench.workload import TABLE, MigrationWatcher, Storm

DATABASE = "safemigrate_bench_storm"
BASELINE_S = 1.0
TAIL_S = 1.0
#: The issue's targets for safemigrate: applied this soon, clients' worst query this close to
#: plain migrate's (which queues once, for the storm's floor).
TARGET_APPLIED_S = 5.0
TARGET_RATIO = 1.1


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_traffic_arguments(parser, DATABASE)
    parser.add_argument(
        "--storm-seconds", type=float, default=75.0, help="the storm's longest duration (75)"
    )
    parser.add_argument("--storm-sessions", type=int, default=3, help="storm sessions (3)")
    parser.add_argument(
        "--transaction-ms",
        type=float,
        default=400.0,
        help="how long each storm transaction stays open (400)",
    )
    parser.add_argument(
        "--migrate-after",
        type=float,
        default=2.0,
        help="seconds between the storm's start and the migration's (2)",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=5,
        help="runs of each tool, alternating; the verdict compares medians (5)",
    )
    args = parser.parse_args(argv)
    select_tools(parser, args)
    if args.migrate_after >= args.storm_seconds:
        parser.error("--migrate-after must be shorter than --storm-seconds")
    return args


@dataclass(frozen=True)
class StormOutcome:
    """Everything measured for one tool."""

    tool: Tool
    run: int
    migration: MigrationRun
    #: When the column became visible to other sessions, in seconds from the migration's start.
    applied_after_s: float | None
    applied: bool
    baseline: Stats
    during: Stats
    storm_transactions: int
    client_errors: int

    @property
    def attempts(self) -> list[tuple[str, int | None]]:
        """safemigrate's attempts, (outcome, lock timeout), from its ``--json`` summary."""
        if self.tool.command != "safemigrate":
            return []
        try:
            summary = json.loads(self.migration.stdout)
        except ValueError:
            return [("(no summary)", None)]
        return [
            (a["outcome"], a.get("lock_timeout_ms"))
            for m in summary.get("migrations", [])
            for a in m.get("attempts", [])
        ]

    @property
    def output(self) -> str:
        run = self.migration
        text = run.stderr if self.tool.command == "safemigrate" else run.stdout + run.stderr
        return text.strip()


HEADER = (
    "tool",
    "applied",
    "applied after",
    "migration wall time",
    "clients' worst query",
    "p99",
    "p50",
    "worst delay",
    "ops",
    "attempts",
    "lock timeouts",
)
CONTEXT_HEADER = (
    "tool",
    "baseline worst / p99",
    "migration queued for a lock",
    "storm transactions",
    "exit",
    "client errors",
    "load avg",
)


def row(outcome: StormOutcome) -> list[str]:
    stats = outcome.during
    applied_after = outcome.applied_after_s
    timeouts = [f"{ms}" for _, ms in outcome.attempts if ms is not None]
    return [
        f"{outcome.tool.label} #{outcome.run}",
        "yes" if outcome.applied else "no",
        "-" if applied_after is None else f"{applied_after:.2f} s",
        f"{outcome.migration.ended - outcome.migration.started:.2f} s",
        f"{stats.worst_ms:,.0f} ms",
        f"{stats.p99_ms:,.1f} ms",
        f"{stats.p50_ms:.2f} ms",
        f"{stats.worst_delay_ms:,.0f} ms",
        f"{stats.ops:,}",
        describe_attempts([outcome_name for outcome_name, _ in outcome.attempts]),
        ", ".join(timeouts) + " ms" if timeouts else "-",
    ]


def context_row(outcome: StormOutcome) -> list[str]:
    migration = outcome.migration
    return [
        f"{outcome.tool.label} #{outcome.run}",
        f"{outcome.baseline.worst_ms:.0f} / {outcome.baseline.p99_ms:.1f} ms",
        f"{migration.lock_wait_s:.2f} s",
        f"{outcome.storm_transactions:,}",
        str(migration.exit_code),
        str(outcome.client_errors),
        f"{migration.load:.2f}",
    ]


@dataclass(frozen=True)
class Medians:
    """One tool's runs summed up: the median of each headline figure, and whether all applied."""

    label: str
    command: str
    runs: int
    all_applied: bool
    applied_after_s: float | None
    worst_ms: float

    @classmethod
    def of(cls, tool: Tool, outcomes: Sequence[StormOutcome]) -> Medians:
        mine = [o for o in outcomes if o.tool == tool]
        applied = [o.applied_after_s for o in mine if o.applied_after_s is not None]
        return cls(
            label=tool.label,
            command=tool.command,
            runs=len(mine),
            all_applied=all(o.applied for o in mine) and len(applied) == len(mine),
            applied_after_s=statistics.median(applied) if applied else None,
            worst_ms=statistics.median(o.during.worst_ms for o in mine),
        )


MEDIANS_HEADER = ("tool", "runs", "all applied", "median applied after", "median worst query")


def medians_row(medians: Medians) -> list[str]:
    applied = medians.applied_after_s
    return [
        medians.label,
        str(medians.runs),
        "yes" if medians.all_applied else "no",
        "-" if applied is None else f"{applied:.2f} s",
        f"{medians.worst_ms:,.0f} ms",
    ]


def verdicts(summary: Sequence[Medians]) -> list[str]:
    """Say whether safemigrate meets the targets, its medians against plain migrate's."""
    floor = next((m.worst_ms for m in summary if m.command == "migrate"), None)
    lines = []
    for medians in summary:
        if medians.command != "safemigrate":
            continue
        applied = medians.applied_after_s
        in_time = medians.all_applied and applied is not None and applied <= TARGET_APPLIED_S
        ratio = medians.worst_ms / floor if floor else None
        close = ratio is not None and ratio <= TARGET_RATIO
        lines.append(
            f"- {medians.label}: applied {'-' if applied is None else f'{applied:.2f} s'} after "
            f"its start ({'meets' if in_time else 'misses'} <= {TARGET_APPLIED_S:g} s); clients' "
            f"worst query {'?' if ratio is None else f'{ratio:.2f}x'} plain migrate's "
            f"({'meets' if close else 'misses'} <= {TARGET_RATIO:g}x)"
        )
    return lines


def run_tool(
    database: common.BenchDatabase, tool: Tool, run: int, args: argparse.Namespace
) -> StormOutcome:
    """Measure one tool, from a freshly prepared database to the clients' last operation."""
    print(f"\n== {tool.label} #{run}: preparing {args.rows:,} rows")
    prepare(database, args.rows)
    deadline = time.time() + args.storm_seconds + 360
    processes, stop, out = start_clients(database, args, deadline)
    clients_ready = time.time()
    storm = Storm(
        database.conninfo,
        args.rows,
        args.storm_sessions,
        args.transaction_ms / 1000,
        args.storm_seconds,
    )
    storm.start(after=BASELINE_S)  # the clients alone meanwhile: the baseline
    print(
        f"   storm: {args.storm_sessions} sessions of {args.transaction_ms:g} ms transactions, "
        f"{args.storm_seconds:g} s at most"
    )
    time.sleep(max(0.0, storm.start_at + args.migrate_after - time.time()))
    watcher = MigrationWatcher(database.conninfo, column=(TABLE, NEW_COLUMN))
    migration = run_migration(database, tool, watcher, args.storm_seconds + 300)
    time.sleep(TAIL_S)
    storm.stop()
    stop.set()
    clients = collect(processes, out)
    if storm.errors:
        raise SystemExit(f"the storm failed: {storm.errors[0]}")
    applied_at = watcher.applied_at
    outcome = StormOutcome(
        tool=tool,
        run=run,
        migration=migration,
        applied_after_s=None if applied_at is None else applied_at - migration.started,
        applied=migration_applied(database),
        baseline=Stats.of(clients, clients_ready + 0.2, storm.start_at),
        during=Stats.of(clients, migration.started, migration.ended),
        storm_transactions=storm.transactions,
        client_errors=sum(samples.errors for samples in clients),
    )
    print(
        f"   applied: {row(outcome)[2]}, worst query {outcome.during.worst_ms:.0f} ms, "
        f"migration {migration.ended - migration.started:.2f} s"
    )
    return outcome


def describe_setup(args: argparse.Namespace, server: str) -> str:
    env = common.environment()
    variants = "".join(
        f"; {tool.label} runs with SAFEMIGRATE = {json.dumps(tool.safemigrate_settings)}"
        for tool in args.selected
        if tool.safemigrate_settings
    )
    return (
        f"{args.rows:,} rows; storm of {args.storm_sessions} sessions keeping "
        f"{args.transaction_ms:g} ms read transactions open (at most {args.storm_seconds:g} s); "
        f"{args.clients} clients at {args.rate:g} ops/s each ({args.update_share:.0%} UPDATEs); "
        f"migration starts {args.migrate_after:g} s into the storm; safemigrate's default "
        f"settings{variants}. PostgreSQL {server}, Python {env['python']}, Django "
        f"{env['django']}, {env['cpus']} CPUs, {env['platform']}."
    )


def report(
    outcomes: Sequence[StormOutcome],
    summary: Sequence[Medians],
    args: argparse.Namespace,
    server: str,
) -> str:
    outputs = [
        f"<details><summary>{o.tool.label} #{o.run} output</summary>\n\n```\n{o.output}\n```"
        "\n</details>"
        for o in outcomes
    ]
    return "\n\n".join(
        [
            "## storm",
            describe_setup(args, server),
            common.markdown_table(MEDIANS_HEADER, [medians_row(m) for m in summary]),
            common.markdown_table(HEADER, [row(o) for o in outcomes]),
            common.markdown_table(CONTEXT_HEADER, [context_row(o) for o in outcomes]),
            "\n".join(verdicts(summary)),
            *outputs,
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the tools in turn, ``--runs`` times, each from the same starting state; report."""
    args = parse_args(argv)
    database = common.bench_database(args.database)
    server = database.server_version()
    outcomes = [
        run_tool(database, tool, run, args)
        for run in range(1, args.runs + 1)
        for tool in args.selected
    ]
    summary = [Medians.of(tool, outcomes) for tool in args.selected]
    print()
    print(common.text_table(MEDIANS_HEADER, [medians_row(m) for m in summary]))
    print()
    print(common.text_table(HEADER, [row(o) for o in outcomes]))
    print()
    print(common.text_table(CONTEXT_HEADER, [context_row(o) for o in outcomes]))
    print()
    print("\n".join(verdicts(summary)))
    path = common.save_results("storm", report(outcomes, summary, args, server))
    print(f"\nreport: {path.relative_to(common.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

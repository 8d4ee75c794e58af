"""Renames and type changes on a busy table: the plain operation against the form ``--fix``
writes, measured by the clients' worst query and their errors.

For each case and tool, from the same starting state (``benchapp_account`` with ``--rows``
rows, ``--clients`` client processes reading and updating it by primary key):

- ``alter-type``: ``AlterField`` of ``balance`` from integer to bigint. ``plain``: applied by
  ``migrate`` (the table rewritten under ACCESS EXCLUSIVE); ``safe``: the migration rewritten by
  ``safemigrate --fix`` (``AlterFieldTypeSafely``), applied by ``safemigrate``. The clients'
  code is the same throughout.
- ``rename``: ``RenameField`` of ``owner`` to ``holder``. The clients run the old code
  (``owner``) until the new code is deployed (``holder``), ``--deploy-seconds`` after the
  pre-deploy migrations end. ``plain``: ``migrate``, then the deploy; ``safe``: ``--fix``'s
  migrations, ``safemigrate --phase pre``, the deploy, ``safemigrate --phase post``.

    python bench/expand.py                             # 1M rows, 4 clients, both cases
    python bench/expand.py --rows 50000 --cases rename  # a quick look
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as ``python bench/expand.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.lock_stall import collect, prepare
from bench.ops_migrations import write_package
from bench.stall_report import Stats
from bench.workload import TABLE, ClientPlan, run_client

SETTINGS = "bench.ops_settings"
DATABASE = "safemigrate_bench_expand"
INITIAL = common.ROOT / "bench" / "benchapp" / "migrations" / "0001_initial.py"
BASELINE_S, TAIL_S = 1.0, 0.5
TARGET_MS = 25.0

BALANCE = (
    f"SELECT balance FROM {TABLE} WHERE id = %s",
    f"UPDATE {TABLE} SET balance = balance + 1 WHERE id = %s",
)
#: case -> (the migration as makemigrations writes it, the clients' queries per code version)
CASES: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "alter-type": (
        'migrations.AlterField("account", "balance", models.BigIntegerField(default=0))',
        (BALANCE,),
    ),
    "rename": (
        'migrations.RenameField("account", "owner", "holder")',
        (
            (
                f"SELECT owner FROM {TABLE} WHERE id = %s",
                f"UPDATE {TABLE} SET owner = 'o' || id WHERE id = %s",
            ),
            (
                f"SELECT holder FROM {TABLE} WHERE id = %s",
                f"UPDATE {TABLE} SET holder = 'h' || id WHERE id = %s",
            ),
        ),
    ),
}
TOOLS = ("plain", "safe")


@dataclass(frozen=True)
class Result:
    case: str
    tool: str
    baseline: Stats
    stats: Stats
    errors: int
    wall_s: float
    failed: str

    @property
    def meets_target(self) -> bool:
        return not self.failed and self.errors == 0 and self.stats.worst_ms <= TARGET_MS


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the table (1000000)")
    parser.add_argument("--clients", type=int, default=4, help="client processes (4)")
    parser.add_argument("--rate", type=float, default=100.0, help="ops/s per client (100)")
    parser.add_argument("--update-share", type=float, default=0.5, help="UPDATE share (0.5)")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated cases")
    parser.add_argument("--tools", default=",".join(TOOLS), help="plain,safe")
    parser.add_argument(
        "--deploy-seconds", type=float, default=2.0, help="rollout of the new code (2)"
    )
    parser.add_argument(
        "--settings",
        default="{}",
        help="SAFEMIGRATE settings (JSON) for the safe runs, e.g. "
        '\'{"BACKFILL_TARGET_BATCH_TIME": "20ms"}\'',
    )
    parser.add_argument("--database", default=DATABASE, help="the benchmark's own database")
    return parser.parse_args(argv)


def start_clients(
    database: common.BenchDatabase, args: argparse.Namespace, queries: Any, deadline: float
) -> tuple[list[Any], Any, Any, Any]:
    """Start the clients on the first version of the code; return them, stop, out, phase."""
    context = multiprocessing.get_context("spawn")
    ready, stop, out, phase = context.Queue(), context.Event(), context.Queue(), context.Value("i")
    processes = []
    for seed in range(1, args.clients + 1):
        # Django binds parameters on the client and prepares nothing on the server: a
        # statement prepared there fails once its result's type changes, safely or not.
        plan = ClientPlan(
            database.conninfo,
            args.rows,
            args.rate,
            args.update_share,
            seed,
            deadline,
            queries,
            prepared=False,
        )
        process = context.Process(target=run_client, args=(plan, ready, stop, out, phase))
        process.start()
        processes.append(process)
    for _ in processes:
        ready.get(timeout=60)
    return processes, stop, out, phase


def commands(case: str, tool: str, package: Path, env: dict[str, str]) -> list[list[str]]:
    """The commands of one run, ``deploy`` marking when the new code goes out."""
    if tool == "plain":
        return [["migrate", "benchapp", "--noinput"], ["deploy"]]
    common.run_django("safemigrate", "--fix", "benchapp", "0002", settings=SETTINGS, env=env)
    print(f"   --fix wrote: {', '.join(sorted(p.name for p in package.glob('0002*.py')))}")
    if case == "rename":
        return [
            ["safemigrate", "benchapp", "--phase", "pre", "--noinput"],
            ["deploy"],
            ["safemigrate", "benchapp", "--phase", "post", "--noinput"],
        ]
    return [["safemigrate", "benchapp", "--noinput"]]


def run_one(
    database: common.BenchDatabase, case: str, tool: str, args: argparse.Namespace, tmp: Path
) -> Result:
    """Measure one tool on one case, from a freshly filled table."""
    operation, queries = CASES[case]
    package = tmp / f"expandbench_{len(list(tmp.iterdir()))}"
    write_package(package, INITIAL.read_text(), [(True, operation)])
    print(f"\n== {case} / {tool}: preparing {args.rows:,} rows")
    prepare(database, args.rows)
    settings = args.settings if tool == "safe" else "{}"
    env = database.child_env(
        SAFEMIGRATE_BENCH_MIGRATIONS=package.name,
        SAFEMIGRATE_BENCH_SETTINGS=settings,
        PYTHONPATH=f"{tmp}:{common.ROOT}",
    )
    steps = commands(case, tool, package, env)
    processes, stop, out, phase = start_clients(database, args, queries, time.time() + 1800)
    ready_at = time.time()
    time.sleep(BASELINE_S)
    started, failed = time.time(), ""
    for step in steps:
        if step == ["deploy"]:
            time.sleep(args.deploy_seconds)  # the rollout: old code still serving meanwhile
            phase.value = len(queries) - 1
            continue
        finished = common.run_django(*step, settings=SETTINGS, env=env, check=False)
        print(f"   {' '.join(step)}: exit {finished.returncode} at +{time.time() - started:.1f} s")
        if finished.returncode:
            failed = (finished.stderr.strip().splitlines() or ["?"])[-1][:160]
            break
    ended = time.time()
    time.sleep(TAIL_S)
    stop.set()
    clients = collect(processes, out)
    stats = Stats.of(clients, started, ended + TAIL_S)
    result = Result(
        case,
        tool,
        Stats.of(clients, ready_at + 0.2, started),
        stats,
        sum(client.errors for client in clients),
        ended - started,
        failed,
    )
    print(
        f"   worst {stats.worst_ms:.0f} ms (at +{stats.worst_at - started:.1f} s), "
        f"p99 {stats.p99_ms:.1f} ms, errors {result.errors}, "
        f"wall {result.wall_s:.1f} s{', FAILED: ' + failed if failed else ''}"
    )
    return result


def report(results: list[Result], args: argparse.Namespace, server: str) -> str:
    header = ["case", "tool", "worst query ms", "p99 ms", "client errors", "wall s", "target"]
    header.append("baseline worst / p99 ms")
    rows = [
        [
            r.case,
            r.tool,
            f"{r.stats.worst_ms:.0f}",
            f"{r.stats.p99_ms:.1f}",
            str(r.errors),
            f"{r.wall_s:.1f}" + (f" (failed: {r.failed})" if r.failed else ""),
            ("met" if r.meets_target else "missed") if r.tool == "safe" else "-",
            f"{r.baseline.worst_ms:.0f} / {r.baseline.p99_ms:.1f}",
        ]
        for r in results
    ]
    setup = (
        f"{args.rows:,} rows, {args.clients} clients at {args.rate:g} ops/s each "
        f"({args.update_share:.0%} UPDATEs), a {args.deploy_seconds:g} s rollout, PostgreSQL "
        f"{server}, safe runs with SAFEMIGRATE = {json.loads(args.settings)}. Target for the "
        f"safe forms: worst query <= {TARGET_MS:g} ms and no client error. The baseline is the "
        "same clients in the second before the first command, with no migration running."
    )
    return f"# Expand/contract benchmark\n\n{setup}\n\n{common.markdown_table(header, rows)}\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    database = common.bench_database(args.database)
    server = database.server_version()
    results = []
    with tempfile.TemporaryDirectory(prefix="expandbench") as directory:
        for case in args.cases.split(","):
            for tool in args.tools.split(","):
                results.append(run_one(database, case, tool, args, Path(directory)))
    text = report(results, args, server)
    print("\n" + text)
    path = common.save_results("expand", text)
    print(f"saved to {path.relative_to(common.ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

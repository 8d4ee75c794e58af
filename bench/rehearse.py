"""What ``safemigrate --rehearse`` costs against the plain migration it rehearses.

On ``benchapp_account`` filled with ``--rows`` rows (default 1M) and analysed, for each seed
type (as ``makemigrations`` writes it, from bench/ops_migrations.py), each round runs, in
alternating order:

- ``migrate``: ``python -m django migrate benchapp 0002_change`` in a child process, timed
  from launch to exit; ``benchapp 0001`` then unapplies it (not timed);
- ``rehearse``: ``python -m django safemigrate benchapp 0002_change --rehearse --json`` in a
  child process, timed from launch to exit; its report gives the copy's time (a template
  copy: nobody else is connected) and each phase's (apply, rollback, re-apply, each a child
  process of its own).

Reported: the medians of each, and the ratios copy / migrate (target: within 2x) and whole
rehearsal / migrate. Figures go to stdout and ``bench/results/``.

    python bench/rehearse.py                      # 1M rows, 3 rounds, add-index and add-column
    python bench/rehearse.py --rows 100000 --rounds 1   # a quick look
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as ``python bench/rehearse.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.lock_stall import prepare
from bench.ops_migrations import TYPES, write_package

SETTINGS = "bench.ops_settings"
INITIAL = common.ROOT / "bench" / "benchapp" / "migrations" / "0001_initial.py"
TARGET = 2.0
SEED_TYPES = ("add-index", "add-column")


@dataclass(frozen=True)
class Round:
    seed_type: str
    migrate_s: float
    rehearse_s: float
    copy_s: float
    phases_s: dict[str, float]


def plain(env: dict[str, str], name: str) -> float:
    ran = common.run_django("migrate", "benchapp", name, "--noinput", settings=SETTINGS, env=env)
    common.run_django("migrate", "benchapp", "0001", "--noinput", settings=SETTINGS, env=env)
    return ran.seconds


def rehearsed(env: dict[str, str], name: str) -> tuple[float, dict[str, Any]]:
    ran = common.run_django(
        "safemigrate", "benchapp", name, "--rehearse", "--json", settings=SETTINGS, env=env
    )
    report = json.loads(ran.stdout)
    if not report["passed"] or not report["copy"]["dropped"]:
        raise SystemExit(f"The rehearsal failed: {report['failures']}")
    return ran.seconds, report


def measure(
    database: common.BenchDatabase, seed_type: str, args: argparse.Namespace, tmp: Path
) -> list[Round]:
    plain_migrations, _ = TYPES[seed_type]
    package = f"rehearsebench_{seed_type.replace('-', '_')}"
    [name] = write_package(tmp / package, INITIAL.read_text(), plain_migrations)
    print(f"== {seed_type}: preparing {args.rows:,} rows")
    prepare(database, args.rows)
    env = database.child_env(
        SAFEMIGRATE_BENCH_MIGRATIONS=package, PYTHONPATH=f"{tmp}:{common.ROOT}"
    )
    rehearsed(env, name)  # a warm-up
    rounds = []
    for number in range(args.rounds):
        migrate_s = plain(env, name) if number % 2 == 0 else 0.0
        rehearse_s, report = rehearsed(env, name)
        if number % 2:
            migrate_s = plain(env, name)
        copy = report["copy"]
        phases = {phase["name"]: phase["seconds"] for phase in report["phases"]}
        rounds.append(Round(seed_type, migrate_s, rehearse_s, copy["seconds"], phases))
        print(f"   round {number + 1}: migrate {migrate_s:.2f}s, rehearse {rehearse_s:.2f}s")
    return rounds


def report(rounds: list[Round], args: argparse.Namespace, server: str, size: str) -> str:
    rows = []
    for seed_type in dict.fromkeys(r.seed_type for r in rounds):
        mine = [r for r in rounds if r.seed_type == seed_type]
        migrate_s = statistics.median(r.migrate_s for r in mine)
        copy_s = statistics.median(r.copy_s for r in mine)
        apply_s = statistics.median(r.phases_s.get("apply", 0.0) for r in mine)
        rehearse_s = statistics.median(r.rehearse_s for r in mine)
        rows.append(
            [
                seed_type,
                f"{migrate_s:.2f}",
                f"{copy_s:.2f}",
                f"{apply_s:.2f}",
                f"{rehearse_s:.2f}",
                f"{copy_s / migrate_s:.2f}x",
                f"{rehearse_s / migrate_s:.2f}x",
            ]
        )
    header = (
        "seed type",
        "migrate s",
        "copy s",
        "apply phase s",
        "rehearsal s",
        "copy / migrate",
        "rehearsal / migrate",
    )
    summary = (
        f"{args.rows:,} rows ({size} database), {args.rounds} rounds, PostgreSQL {server}, "
        f"{common.environment()}.\nTarget: the copy within {TARGET}x of the migration."
    )
    return f"{common.text_table(header, rows)}\n\n{summary}"


def database_size(database: common.BenchDatabase) -> str:
    with database.connect() as conn:
        row = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()
    return str(row[0]) if row else "?"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--types", default=",".join(SEED_TYPES), help="comma-separated seed types")
    parser.add_argument("--database", default="safemigrate_bench_rehearse")
    args = parser.parse_args(argv)
    database = common.bench_database(args.database)
    rounds: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="safemigrate-bench-rehearse-") as folder:
        for seed_type in args.types.split(","):
            rounds += measure(database, seed_type, args, Path(folder))
        size = database_size(database)
    text = report(rounds, args, database.server_version(), size)
    print(text)
    print(f"\nSaved to {common.save_results('rehearse', text)}")


if __name__ == "__main__":
    main()

"""What ``safemigrate --backup`` costs against a bare ``pg_dump`` of the same table.

On a ``benchapp_account`` table of ``--rows`` rows (default 1M), analysed, each round runs,
in alternating order:

- ``pg_dump``: the pg_dump safemigrate chooses for this server, ``--format=custom
  --table=public.benchapp_account --file=...`` (which writes the file and syncs it to disk),
  timed from launch to exit;
- ``safemigrate``: ``python -m django safemigrate benchapp 0002 --backup`` in a child
  process, whose backup step (pg_dump to a private partial file, fsync, ``pg_restore --list``
  to read the archive back, rename) is timed by safemigrate itself and recorded in the
  history (``safemigrate_backup.duration_ms``); ``benchapp 0001`` then unapplies the cheap
  migration for the next round.

Reported: each side's median time and throughput (archive bytes per second), and the ratio
safemigrate / pg_dump (target: within 1.1x). Figures go to stdout and ``bench/results/``.

    python bench/backup.py                   # 1M rows, 5 rounds
    python bench/backup.py --rows 100000 --rounds 3   # a quick look
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as ``python bench/backup.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from psycopg.conninfo import conninfo_to_dict

from bench import common
from safemigrate.postgres.dump import client_environment

SETTINGS = "bench.settings"
TABLE = "benchapp_account"
TARGET = 1.1


@dataclass(frozen=True)
class Sample:
    tool: str
    seconds: float
    size: int


def prepare(database: common.BenchDatabase, rows: int) -> dict[str, str]:
    """Empty the database, create the history and the table at ``benchapp 0001``, fill it."""
    env = database.child_env()
    database.reset()
    common.run_django("safemigrate", "safemigrate", settings=SETTINGS, env=env)
    common.run_django("safemigrate", "benchapp", "0001", settings=SETTINGS, env=env)
    with database.connect() as conn:
        conn.execute(
            f"INSERT INTO {TABLE} (id, owner, balance) "
            "SELECT g, 'owner ' || g, g %% 1000 FROM generate_series(1, %s) AS g",
            [rows],
        )
        conn.execute(f"VACUUM (ANALYZE) {TABLE}")
        conn.execute("CHECKPOINT")
    return env


def pg_dump_path(database: common.BenchDatabase) -> Path:
    """The pg_dump safemigrate would choose for this server (it records it with each backup)."""
    with database.connect() as conn:
        row = conn.execute("SELECT pg_dump FROM safemigrate_backup ORDER BY id DESC").fetchone()
    assert row is not None, "run a backup first"
    return Path(str(row[0]).rsplit(" (PostgreSQL", 1)[0])


def bare(database: common.BenchDatabase, pg_dump: Path, folder: Path) -> Sample:
    target = folder / "bare.dump"
    target.unlink(missing_ok=True)
    # The connection as safemigrate passes it: in libpq's environment.
    env = client_environment(conninfo_to_dict(database.conninfo))
    argv = [str(pg_dump), "--format=custom", f"--table=public.{TABLE}", f"--file={target}"]
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True)
    return Sample("pg_dump", time.perf_counter() - started, target.stat().st_size)


def guarded(database: common.BenchDatabase, env: dict[str, str]) -> Sample:
    common.run_django("safemigrate", "benchapp", "0002", "--backup", settings=SETTINGS, env=env)
    with database.connect() as conn:
        row = conn.execute(
            "SELECT duration_ms, size_bytes FROM safemigrate_backup ORDER BY id DESC"
        ).fetchone()
    assert row is not None, "safemigrate recorded no backup"
    common.run_django("safemigrate", "benchapp", "0001", settings=SETTINGS, env=env)
    return Sample("safemigrate", int(row[0]) / 1000, int(row[1]))


def report(samples: list[Sample], args: argparse.Namespace, server: str) -> str:
    rows = []
    medians = {}
    for tool in ("pg_dump", "safemigrate"):
        mine = [s for s in samples if s.tool == tool]
        seconds = statistics.median(s.seconds for s in mine)
        size = statistics.median(s.size for s in mine)
        medians[tool] = seconds
        rows.append(
            [
                tool,
                f"{seconds:.3f}",
                f"{min(s.seconds for s in mine):.3f}",
                f"{size / 1e6:.1f}",
                f"{size / 1e6 / seconds:.1f}",
            ]
        )
    ratio = medians["safemigrate"] / medians["pg_dump"]
    header = ("tool", "median s", "best s", "archive MB", "MB/s")
    verdict = "within" if ratio <= TARGET else "over"
    summary = (
        f"{args.rows:,} rows, {args.rounds} rounds, PostgreSQL {server}, "
        f"{common.environment()}.\nsafemigrate / pg_dump = {ratio:.2f}x ({verdict} the "
        f"{TARGET}x target)."
    )
    return f"{common.text_table(header, rows)}\n\n{summary}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database", default="safemigrate_bench_backup")
    args = parser.parse_args(argv)
    database = common.bench_database(args.database)
    with tempfile.TemporaryDirectory(prefix="safemigrate-bench-backup-") as folder:
        env = prepare(database, args.rows)
        env["SAFEMIGRATE_BENCH_SETTINGS"] = json.dumps({"BACKUP_DIR": folder, "BACKUP_KEEP": 1})
        guarded(database, env)  # a warm-up, which also names the pg_dump to use
        pg_dump = pg_dump_path(database)
        samples = []
        for round_ in range(args.rounds):
            pair = [lambda: bare(database, pg_dump, Path(folder)), lambda: guarded(database, env)]
            for measure in pair if round_ % 2 == 0 else reversed(pair):
                samples.append(measure())
        text = report(samples, args, database.server_version())
    print(text)
    print(f"\nSaved to {common.save_results('backup', text)}")


if __name__ == "__main__":
    main()

"""Backfill a column while clients use the table: one UPDATE, the seed's OFFSET loop, safemigrate.

For each size (``--rows``, default 250k, 500k and 1M) and each method, from the same state: a
``backfillapp_product`` table of that many rows with ``price_cents`` NULL, analysed, and
``--clients`` client processes that each read or update (``stock = stock + 1``) a random row
by primary key, ``--rate`` times a second. Then a child process applies ``backfillapp 0002``:

- ``update``: ``migrate``, a ``RunPython`` doing one ``QuerySet.update()`` of every row;
- ``offset``: ``migrate``, the seed document's loop, pages of 1,000 by ``LIMIT``/``OFFSET``;
- ``safemigrate``: ``safemigrate``, the ``Backfill`` operation with default settings.

Reported: rows per second and total time of the backfill itself, and the clients' worst stall,
p99 and p50 over the operations due while it ran (measured from when each was due, so a
stalled client is charged for every operation it could not send). Figures go to stdout and to
``bench/results/``.

    python bench/backfill.py                       # 250k, 500k and 1M rows
    python bench/backfill.py --rows 20000 --methods update,safemigrate   # a quick look
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

if __package__ in (None, ""):  # run as ``python bench/backfill.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

SETTINGS = "bench.backfill_settings"
TABLE = "backfillapp_product"
METHODS = {"update": "migrate", "offset": "migrate", "safemigrate": "safemigrate"}
IDLE_S = 5.0
_SELECT = f"SELECT stock FROM {TABLE} WHERE id = %s"
_UPDATE = f"UPDATE {TABLE} SET stock = stock + 1 WHERE id = %s"


@dataclass(frozen=True)
class Result:
    rows: int
    method: str
    seconds: float
    done: int
    ops: int
    errors: int
    worst_ms: float
    p99_ms: float
    p50_ms: float

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0


def client(conninfo: str, rows: int, rate: float, seed: int, stop: Any, out: Any) -> None:
    """Read or update random rows on a fixed schedule; report (due, latency) per operation."""
    rng = random.Random(seed)
    due_at, latency = array("d"), array("d")
    errors = 0
    interval = 1 / rate
    with psycopg.connect(conninfo, autocommit=True, application_name="bench client") as conn:
        due = time.monotonic()
        offset = time.time() - time.monotonic()
        while not stop.is_set():
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            query = _UPDATE if rng.random() < 0.5 else _SELECT
            try:
                conn.execute(query, [rng.randint(1, rows)])
            except psycopg.Error:
                errors += 1
            due_at.append(due + offset)
            latency.append(time.monotonic() - due)
            due += interval
    out.put((due_at.tobytes(), latency.tobytes(), errors))


def prepare(database: common.BenchDatabase, method: str, rows: int) -> dict[str, str]:
    """Empty the database, create the table at ``0001`` and fill it; return the child env."""
    env = database.child_env(SAFEMIGRATE_BENCH_METHOD="update" if method == "idle" else method)
    database.reset()
    common.run_django("migrate", "backfillapp", "0001", settings=SETTINGS, env=env)
    with database.connect() as conn:
        conn.execute(
            f"INSERT INTO {TABLE} (price, stock) "
            "SELECT (g %% 10000) + 0.99, 0 FROM generate_series(1, %s) AS g",
            [rows],
        )
        conn.execute(f"VACUUM ANALYZE {TABLE}")
        conn.execute("CHECKPOINT")
    return env


def window(database: common.BenchDatabase, method: str, stdout: str) -> tuple[float, float]:
    """When the backfill itself ran (epoch seconds), as the migration reported it."""
    if method == "safemigrate":
        with database.connect() as conn:
            row = conn.execute(
                "SELECT extract(epoch FROM started_at), extract(epoch FROM finished_at) "
                "FROM safemigrate_backfillstate"
            ).fetchone()
        assert row is not None, "the backfill left no state"
        return float(row[0]), float(row[1])
    line = next(line for line in stdout.splitlines() if line.startswith("BENCH_WINDOW"))
    start, end = line.split()[1:]
    return float(start), float(end)


def run_one(
    database: common.BenchDatabase, args: argparse.Namespace, rows: int, method: str
) -> Result:
    env = prepare(database, method, rows)
    stop, out = multiprocessing.Event(), multiprocessing.Queue()
    clients = [
        multiprocessing.Process(
            target=client, args=(database.conninfo, rows, args.rate, n, stop, out)
        )
        for n in range(args.clients)
    ]
    for process in clients:
        process.start()
    time.sleep(1.0)
    if method == "idle":  # The clients alone: the noise floor of this machine.
        start = time.time()
        time.sleep(IDLE_S)
        end = time.time()
        stdout = ""
    else:
        stdout = common.run_django(
            METHODS[method], "backfillapp", "0002", settings=SETTINGS, env=env, timeout=3600
        ).stdout
    time.sleep(0.5)
    stop.set()
    samples = [out.get(timeout=60) for _ in clients]
    for process in clients:
        process.join()
    if method != "idle":
        start, end = window(database, method, stdout)
    latencies: list[float] = []
    errors = 0
    for due_bytes, latency_bytes, client_errors in samples:
        due, latency = array("d"), array("d")
        due.frombytes(due_bytes)
        latency.frombytes(latency_bytes)
        latencies += [lat for at, lat in zip(due, latency, strict=True) if start <= at <= end]
        errors += client_errors
    latencies.sort()
    with database.connect() as conn:
        row = conn.execute(f"SELECT count(*) FROM {TABLE} WHERE price_cents IS NOT NULL").fetchone()
    done = int(row[0]) if row else 0
    assert done == rows or method == "idle", f"{method} filled {done} of {rows} rows"
    return Result(
        rows,
        method,
        end - start,
        done,
        len(latencies),
        errors,
        1000 * (latencies[-1] if latencies else 0.0),
        1000 * common.percentile(latencies, 0.99),
        1000 * common.percentile(latencies, 0.50),
    )


HEADER = ("rows", "method", "total s", "rows/s", "worst stall ms", "p99 ms", "p50 ms", "ops")


def cells(result: Result) -> list[str]:
    return [
        f"{result.rows:,}",
        result.method,
        f"{result.seconds:.1f}",
        f"{result.rate:,.0f}",
        f"{result.worst_ms:.0f}",
        f"{result.p99_ms:.1f}",
        f"{result.p50_ms:.1f}",
        f"{result.ops:,}",
    ]


def summary(results: Sequence[Result]) -> list[str]:
    """How safemigrate compares, per size: with the single UPDATE and with the OFFSET loop."""
    lines = []
    for rows in sorted({r.rows for r in results}):
        by = {r.method: r for r in results if r.rows == rows}
        sm = by.get("safemigrate")
        if sm is None:
            continue
        parts = [f"{rows:,} rows: safemigrate p99 {sm.p99_ms:.1f} ms, worst {sm.worst_ms:.0f} ms"]
        if "update" in by:
            parts.append(f"{sm.rate / by['update'].rate:.0%} of the single UPDATE's rows/s")
        if "offset" in by:
            parts.append(f"OFFSET loop takes {by['offset'].seconds / sm.seconds:.1f}x as long")
        lines.append("; ".join(parts))
    return lines


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", default="250000,500000,1000000", help="sizes, comma-separated")
    parser.add_argument(
        "--methods",
        default="update,offset,safemigrate",
        help="update, offset, safemigrate, and idle (the clients alone, for 5 s)",
    )
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rate", type=float, default=100.0, help="operations/s per client")
    parser.add_argument("--database", default="safemigrate_bench_backfill")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    database = common.bench_database(args.database)
    results = []
    for rows in [int(n) for n in args.rows.split(",")]:
        for method in args.methods.split(","):
            result = run_one(database, args, rows, method)
            print(common.text_table(HEADER, [cells(result)]).splitlines()[-1], flush=True)
            results.append(result)
    env = common.environment() | {"postgres": database.server_version()}
    text = "\n\n".join(
        [
            common.markdown_table(HEADER, [cells(r) for r in results]),
            "\n".join(f"- {line}" for line in summary(results)),
            f"{args.clients} clients x {args.rate:g} ops/s (half reads, half updates); "
            + ", ".join(f"{k} {v}" for k, v in env.items()),
        ]
    )
    print(text)
    print(f"saved to {common.save_results('backfill', text)}")


if __name__ == "__main__":
    main()

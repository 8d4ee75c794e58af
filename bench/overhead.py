"""What does safemigrate's guard cost when nothing is in its way? Its wall time against migrate.

Applies the example project's whole migration history to an empty database with
``migrate`` and with ``safemigrate``, ``--runs`` times each, alternating which goes first so
that neither always profits from the other's warm caches, and reports the median wall time of
each and their ratio (the issue's target: within 1.2x).

    python bench/overhead.py            # 7 runs of each
    python bench/overhead.py --runs 15  # steadier medians

Each run is a child ``python -m django ...`` process, timed from launch to exit, as a deploy
would run it: interpreter start-up and Django's set-up count for both. ``migrate --plan`` (the
same start-up, no migration applied) is timed too, so that the cost of the migrations alone
can be told apart. The database is the benchmark's own, emptied before every run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as ``python bench/overhead.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

SETTINGS = "bench.overhead_settings"
#: Its own database, so that it can run alongside lock_stall.py (and other benchmarks).
DATABASE = "safemigrate_bench_overhead"
TARGET_RATIO = 1.2


@dataclass(frozen=True)
class Command:
    """A command to time, with the SAFEMIGRATE settings it runs under (``{}``: defaults)."""

    label: str
    argv: tuple[str, ...]
    safemigrate_settings: str = "{}"


#: The first is the reference for ratios.
COMMANDS = (
    Command("migrate", ("migrate", "--noinput")),
    Command("safemigrate", ("safemigrate", "--noinput")),
    # The guard and the history alone, without the analysis that runs before applying.
    Command("safemigrate --allow-unsafe", ("safemigrate", "--noinput", "--allow-unsafe")),
)
STARTUP = Command("migrate --plan (start-up only)", ("migrate", "--plan"))


@dataclass(frozen=True)
class Timings:
    """The wall times of one command over every run, in seconds."""

    label: str
    seconds: list[float]

    @property
    def median(self) -> float:
        """The median run: one slow run, common on a shared machine, does not move it."""
        return statistics.median(self.seconds)

    def paired_ratio(self, reference: Timings) -> float:
        """Return the median of this command's per-run ratios to ``reference``.

        The two ran one after the other in each run, so a ratio within a run cancels what the
        rest of the machine was doing at the time better than a ratio of medians does.
        """
        return statistics.median(
            mine / theirs for mine, theirs in zip(self.seconds, reference.seconds, strict=True)
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the options, and turn each ``--variant`` into one more Command to time."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each command (7)")
    parser.add_argument("--database", default=DATABASE, help="the benchmark's own database name")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="LABEL=JSON",
        help="also time safemigrate with these SAFEMIGRATE settings, e.g. "
        "'no-history={\"HISTORY\": false}' (repeatable; for investigations)",
    )
    args = parser.parse_args(argv)
    args.commands = list(COMMANDS)
    for variant in args.variant:
        label, _, settings = variant.partition("=")
        try:
            json.loads(settings)
        except ValueError as error:
            parser.error(f"--variant {variant!r}: the settings are not JSON ({error})")
        args.commands.append(Command(label, ("safemigrate", "--noinput"), settings))
    return args


def applied_count(database: common.BenchDatabase) -> int:
    """Return how many migrations the database has recorded as applied."""
    with database.connect() as conn:
        row = conn.execute("SELECT count(*) FROM django_migrations").fetchone()
    return int(row[0]) if row else 0


def time_once(database: common.BenchDatabase, command: Command) -> float:
    """Empty the database, then run ``command`` on it and return its wall time."""
    database.reset()
    env = database.child_env(SAFEMIGRATE_BENCH_SETTINGS=command.safemigrate_settings)
    return common.run_django(*command.argv, settings=SETTINGS, env=env).seconds


def measure(
    database: common.BenchDatabase, commands: Sequence[Command], runs: int
) -> tuple[list[Timings], int]:
    """Time every command ``runs`` times, alternating their order; check they did the same."""
    seconds: dict[str, list[float]] = {c.label: [] for c in (*commands, STARTUP)}
    counts: dict[str, int] = {}
    for command in commands:  # warm-up: .pyc files, the server's caches
        time_once(database, command)
    for run in range(runs):
        order = commands if run % 2 == 0 else list(reversed(commands))
        for command in order:
            seconds[command.label].append(time_once(database, command))
            counts[command.label] = applied_count(database)
        seconds[STARTUP.label].append(time_once(database, STARTUP))
        print(
            f"  run {run + 1}/{runs}: "
            + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in seconds.items())
        )
    if len(set(counts.values())) != 1:
        raise SystemExit(f"the commands applied different numbers of migrations: {counts}")
    return [Timings(label, values) for label, values in seconds.items()], counts["migrate"]


def rows(timings: Sequence[Timings]) -> list[list[str]]:
    """One row per command: its median, spread, and ratios against migrate."""
    reference = timings[0].median
    startup = timings[-1].median
    table = []
    for timing in timings:
        is_startup = timing is timings[-1]
        net = "-" if is_startup else f"{(timing.median - startup) / (reference - startup):.2f}x"
        table.append(
            [
                timing.label,
                f"{timing.median:.2f} s",
                f"{min(timing.seconds):.2f} s",
                f"{max(timing.seconds):.2f} s",
                "-" if is_startup else f"{timing.median / reference:.2f}x",
                "-" if is_startup else f"{timing.paired_ratio(timings[0]):.2f}x",
                net,
            ]
        )
    return table


HEADER = (
    "command",
    "median",
    "min",
    "max",
    "ratio of medians",
    "median of per-run ratios",
    "ratio net of start-up",
)


def report(
    timings: Sequence[Timings], commands: Sequence[Command], migrations: int, runs: int, server: str
) -> str:
    """Return the markdown report of the run."""
    env = common.environment()
    variants = "".join(
        f" {c.label} runs with SAFEMIGRATE = {c.safemigrate_settings}."
        for c in commands
        if c.safemigrate_settings != "{}"
    )
    ratio = timings[1].median / timings[0].median
    met = "meets" if ratio <= TARGET_RATIO else "misses"
    return "\n\n".join(
        [
            "## overhead",
            f"The example project's full history ({migrations} migrations) from an empty "
            f"database, {runs} runs of each command, alternating. PostgreSQL {server}, Python "
            f"{env['python']}, Django {env['django']}, {env['cpus']} CPUs, {env['platform']}."
            + variants,
            common.markdown_table(HEADER, rows(timings)),
            f"safemigrate / migrate = {ratio:.2f}x (ratio of medians; median of per-run ratios "
            f"{timings[1].paired_ratio(timings[0]):.2f}x): {met} the target (within "
            f"{TARGET_RATIO}x).",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Time every command on the benchmark's database and report the medians and ratios."""
    args = parse_args(argv)
    database = common.bench_database(args.database)
    server = database.server_version()
    print(f"timing {args.runs} runs of each command on database {database.name}")
    timings, migrations = measure(database, args.commands, args.runs)
    print()
    print(common.text_table(HEADER, rows(timings)))
    text = report(timings, args.commands, migrations, args.runs, server)
    print("\n" + text.rsplit("\n\n", 1)[-1])
    path = common.save_results("overhead", text)
    print(f"\nreport: {path.relative_to(common.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What does safemigrate cost when nothing is in its way? Its wall time against migrate.

Two measurements, each against plain ``migrate`` in the same run:

- **Histories**: applies a project's whole migration history to an empty database with
  ``migrate`` and with ``safemigrate``, ``--runs`` times each, alternating which goes first so
  that neither always profits from the other's warm caches. Reported per history: the median
  wall times and the median of the per-run ratios (target: within 1.1x), and the child
  process's CPU time, steadier on a shared machine. The histories are
  the example project's and the real apps' of ``tests/realapps`` (taggit, guardian,
  post_office, constance, easy_thumbnails, filer); ``--history LABEL=SETTINGS`` adds another
  project's (a scratch project with a large history, for investigations).
- **One migration**: on the real apps' history, all applied but ``benchapp 0002`` (one
  ``ADD COLUMN``), the run that applies it. Reported: the seconds safemigrate adds (median of
  the per-run differences; target: at most 0.1 s).

Besides ``migrate`` and ``safemigrate``, each measurement times ``migrate`` run as
``safemigrate`` runs from the command line, with start-up's objects frozen out of the garbage
collector's way (``bench/frozen_migrate.py``): against it, the report gives the cost of
safemigrate's own work apart from that gain.

    python bench/overhead.py            # 7 runs of each
    python bench/overhead.py --runs 15  # steadier medians

Each run is a child ``python -m django ...`` process, timed from launch to exit, as a deploy
would run it: interpreter start-up and Django's set-up count for both. ``migrate --plan`` (the
same start-up, no migration applied) is timed too, so that the cost of the migrations alone
can be told apart. The database is the benchmark's own, emptied before every history run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as ``python bench/overhead.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

#: Its own database, so that it can run alongside lock_stall.py (and other benchmarks).
DATABASE = "safemigrate_bench_overhead"
TARGET_RATIO = 1.1
TARGET_ADDED_S = 0.1
#: The histories measured unless --histories says otherwise: label and settings module.
HISTORIES = {
    "example": "bench.overhead_settings",
    "realapps": "bench.realapps_settings",
}
#: The one-migration run: on the real apps' history, this one migration.
ONE_SETTINGS = "bench.realapps_settings"
ONE_TARGET = ("benchapp", "0002_account_note")
ONE_BEFORE = ("benchapp", "0001_initial")


@dataclass(frozen=True)
class Command:
    """A command to time, with the SAFEMIGRATE settings it runs under (``{}``: defaults)."""

    label: str
    argv: tuple[str, ...]
    safemigrate_settings: str = "{}"
    #: Another checkout of the repository to run it from (``--before``), else this one.
    root: Path = common.ROOT
    #: The module that runs it as ``python -m``.
    module: str = "django"


#: The first is the reference for ratios, the third for safemigrate's own work (see below).
COMMANDS = (
    Command("migrate", ("migrate", "--noinput")),
    Command("safemigrate", ("safemigrate", "--noinput")),
    # safemigrate freezes start-up's objects out of the garbage collector's way; migrate timed
    # the same way tells that gain apart from the cost of safemigrate's own work.
    Command("migrate, start-up frozen", ("migrate", "--noinput"), module="bench.frozen_migrate"),
)
BEFORE_LABEL = "safemigrate at"
STARTUP = Command("migrate --plan (start-up only)", ("migrate", "--plan"))


@dataclass
class Timings:
    """The wall times of one command over every run, and its process's CPU times, in seconds."""

    label: str
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, finished: common.Finished) -> None:
        self.seconds.append(finished.seconds)
        self.cpu.append(finished.cpu_seconds)

    @property
    def median(self) -> float:
        """The median run: one slow run, common on a shared machine, does not move it."""
        return statistics.median(self.seconds)

    def paired_ratio(self, reference: Timings, *, cpu: bool = False) -> float:
        """Return the median of this command's per-run ratios to ``reference``.

        The two ran one after the other in each run, so a ratio within a run cancels what the
        rest of the machine was doing at the time better than a ratio of medians does.
        """
        mine, theirs = (self.cpu, reference.cpu) if cpu else (self.seconds, reference.seconds)
        return statistics.median(a / b for a, b in zip(mine, theirs, strict=True))

    def paired_added(self, reference: Timings, *, cpu: bool = False) -> float:
        """Return the median of this command's per-run differences to ``reference``."""
        mine, theirs = (self.cpu, reference.cpu) if cpu else (self.seconds, reference.seconds)
        return statistics.median(a - b for a, b in zip(mine, theirs, strict=True))


@dataclass
class History:
    """One history's measurements: every command's timings and how many migrations ran."""

    label: str
    settings: str
    timings: list[Timings]
    migrations: int = 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Read the options; turn each ``--variant`` into one more Command to time."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each command (7)")
    parser.add_argument("--database", default=DATABASE, help="the benchmark's own database name")
    parser.add_argument(
        "--histories",
        default=",".join(HISTORIES),
        help=f"which histories to apply whole, comma-separated ({','.join(HISTORIES)}); "
        "'' for none",
    )
    parser.add_argument(
        "--history",
        action="append",
        default=[],
        metavar="LABEL=SETTINGS",
        help="also apply the history of the project with these settings (repeatable)",
    )
    parser.add_argument(
        "--no-one", action="store_true", help="skip the run that applies one migration"
    )
    parser.add_argument(
        "--before",
        type=Path,
        action="append",
        default=[],
        metavar="PATH",
        help="also time safemigrate as another checkout of the repository has it (a git "
        "worktree of the commit before a change), to compare both in the same run "
        "(repeatable)",
    )
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
    for before in args.before:
        root = before.resolve()
        if not (root / "safemigrate" / "__init__.py").is_file():
            parser.error(f"--before {before}: not a checkout of safemigrate")
        label = f"{BEFORE_LABEL} {root.name}"
        args.commands.append(Command(label, COMMANDS[1].argv, root=root))
    chosen = [name for name in args.histories.split(",") if name]
    unknown = [name for name in chosen if name not in HISTORIES]
    if unknown:
        parser.error(f"--histories: unknown {unknown}; choose among {list(HISTORIES)}")
    args.history_settings = {name: HISTORIES[name] for name in chosen}
    for extra in args.history:
        label, _, settings = extra.partition("=")
        if not settings:
            parser.error(f"--history {extra!r}: give LABEL=SETTINGS_MODULE")
        args.history_settings[label] = settings
    return args


def applied_count(database: common.BenchDatabase) -> int:
    """Return how many migrations the database has recorded as applied."""
    with database.connect() as conn:
        row = conn.execute("SELECT count(*) FROM django_migrations").fetchone()
    return int(row[0]) if row else 0


def run_command(
    database: common.BenchDatabase, settings: str, command: Command, *targets: str
) -> common.Finished:
    """Run ``command`` (with ``targets``) on the database as it is; return how it went."""
    env = database.child_env(SAFEMIGRATE_BENCH_SETTINGS=command.safemigrate_settings)
    env["PYTHONPATH"] = os.pathsep.join([str(command.root), env["PYTHONPATH"]])
    return common.run_django(
        *command.argv,
        *targets,
        settings=settings,
        env=env,
        cwd=command.root,
        module=command.module,
    )


def measure_history(
    database: common.BenchDatabase, history: History, commands: Sequence[Command], runs: int
) -> None:
    """Time every command ``runs`` times from an empty database, alternating their order."""
    by_label = {timing.label: timing for timing in history.timings}
    counts: dict[str, int] = {}

    def timed(command: Command) -> common.Finished:
        database.reset()
        return run_command(database, history.settings, command)

    for command in commands:  # warm-up: .pyc files, the server's caches
        timed(command)
    for run in range(runs):
        order = commands if run % 2 == 0 else list(reversed(commands))
        for command in order:
            by_label[command.label].add(timed(command))
            counts[command.label] = applied_count(database)
        by_label[STARTUP.label].add(timed(STARTUP))
        print(f"  {history.label} run {run + 1}/{runs}: " + _last(history.timings))
    if len(set(counts.values())) != 1:
        raise SystemExit(f"{history.label}: the commands applied different numbers: {counts}")
    history.migrations = counts[COMMANDS[0].label]


def measure_one(
    database: common.BenchDatabase, commands: Sequence[Command], runs: int
) -> list[Timings]:
    """Time the run that applies one small migration on top of the whole real-apps history.

    Between two timed runs the migration is unapplied with plain ``migrate`` (not timed).
    """
    timings = [Timings(command.label) for command in commands]
    plain = COMMANDS[0]
    database.reset()
    run_command(database, ONE_SETTINGS, plain)
    run_command(database, ONE_SETTINGS, plain, *ONE_BEFORE)

    def timed(command: Command) -> common.Finished:
        finished = run_command(database, ONE_SETTINGS, command, *ONE_TARGET)
        run_command(database, ONE_SETTINGS, plain, *ONE_BEFORE)
        return finished

    for command in commands:  # warm-up
        timed(command)
    for run in range(runs):
        order = range(len(commands)) if run % 2 == 0 else reversed(range(len(commands)))
        for index in order:
            timings[index].add(timed(commands[index]))
        print(f"  one migration run {run + 1}/{runs}: " + _last(timings))
    return timings


def _last(timings: Sequence[Timings]) -> str:
    return ", ".join(f"{t.label} {t.seconds[-1]:.2f} s" for t in timings if t.seconds)


def history_rows(timings: Sequence[Timings]) -> list[list[str]]:
    """One row per command: its median, spread, and ratios against migrate."""
    reference = timings[0]
    startup = timings[-1].median
    table = []
    for timing in timings:
        is_startup = timing is timings[-1]
        net = (timing.median - startup) / (reference.median - startup)
        table.append(
            [
                timing.label,
                f"{timing.median:.2f} s",
                f"{min(timing.seconds):.2f} s",
                f"{max(timing.seconds):.2f} s",
                "-" if is_startup else f"{timing.paired_ratio(reference):.2f}x",
                "-" if is_startup else f"{net:.2f}x",
                f"{statistics.median(timing.cpu):.2f} s",
                "-" if is_startup else f"{timing.paired_ratio(reference, cpu=True):.2f}x",
            ]
        )
    return table


HISTORY_HEADER = (
    "command",
    "median",
    "min",
    "max",
    "median of per-run ratios",
    "net of start-up",
    "CPU median",
    "CPU ratio",
)
ONE_HEADER = (
    "command",
    "median",
    "min",
    "max",
    "added (median of per-run differences)",
    "CPU median",
    "CPU added",
)


def one_rows(timings: Sequence[Timings]) -> list[list[str]]:
    """One row per command of the one-migration run, with the seconds it adds to migrate."""
    return [
        [
            timing.label,
            f"{timing.median:.3f} s",
            f"{min(timing.seconds):.3f} s",
            f"{max(timing.seconds):.3f} s",
            f"{timing.paired_added(timings[0]):+.3f} s",
            f"{statistics.median(timing.cpu):.3f} s",
            f"{timing.paired_added(timings[0], cpu=True):+.3f} s",
        ]
        for timing in timings
    ]


def verdicts(histories: Sequence[History], one: Sequence[Timings] | None) -> list[str]:
    """Say, per history and for the one-migration run, whether the target is met."""
    lines = []
    for history in histories:
        plain, safe, frozen = history.timings[:3]
        ratio = safe.paired_ratio(plain)
        met = "meets" if ratio <= TARGET_RATIO else "misses"
        lines.append(
            f"- {history.label} ({history.migrations} migrations): safemigrate / migrate = "
            f"{ratio:.2f}x, {met} the target (within {TARGET_RATIO}x){_before(history.timings)}"
            f"; CPU {safe.paired_ratio(plain, cpu=True):.2f}x"
            f"{_before(history.timings, cpu=True)}. Its own work, against migrate with "
            f"start-up frozen: {safe.paired_ratio(frozen):.2f}x, CPU "
            f"{safe.paired_ratio(frozen, cpu=True):.2f}x."
        )
    if one:
        plain, safe, frozen = one[:3]
        added = safe.paired_added(plain)
        met = "meets" if added <= TARGET_ADDED_S else "misses"
        lines.append(
            f"- one migration: safemigrate adds {added:+.3f} s, {met} the target (at most "
            f"{TARGET_ADDED_S} s){_before(one, added=True)}; CPU "
            f"{safe.paired_added(plain, cpu=True):+.3f} s{_before(one, added=True, cpu=True)}. "
            f"Its own work, against migrate with start-up frozen: "
            f"{safe.paired_added(frozen):+.3f} s, CPU {safe.paired_added(frozen, cpu=True):+.3f} s."
        )
    return lines


def _before(timings: Sequence[Timings], *, added: bool = False, cpu: bool = False) -> str:
    """The figure of ``--before``'s checkout, to quote beside this one's."""
    figures = [
        f"{t.label.removeprefix(BEFORE_LABEL).strip()}: "
        + (
            f"{t.paired_added(timings[0], cpu=cpu):+.3f} s"
            if added
            else f"{t.paired_ratio(timings[0], cpu=cpu):.2f}x"
        )
        for t in timings
        if t.label.startswith(BEFORE_LABEL)
    ]
    return f" ({', '.join(figures)})" if figures else ""


def report(
    histories: Sequence[History],
    one: Sequence[Timings] | None,
    commands: Sequence[Command],
    runs: int,
    server: str,
) -> str:
    """Return the markdown report of the run."""
    env = common.environment()
    variants = "".join(
        f" {c.label} runs with SAFEMIGRATE = {c.safemigrate_settings}."
        for c in commands
        if c.safemigrate_settings != "{}"
    ) + "".join(f" {c.label} runs from {c.root}." for c in commands if c.root != common.ROOT)
    parts = [
        "## overhead",
        f"{runs} runs of each command, alternating. PostgreSQL {server}, Python "
        f"{env['python']}, Django {env['django']}, {env['cpus']} CPUs, {env['platform']}."
        + variants,
    ]
    for history in histories:
        parts += [
            f"### {history.label}: {history.migrations} migrations from an empty database "
            f"(`{history.settings}`)",
            common.markdown_table(HISTORY_HEADER, history_rows(history.timings)),
        ]
    if one:
        label = ".".join(ONE_TARGET)
        parts += [
            f"### One migration: {label} on the real apps' history",
            common.markdown_table(ONE_HEADER, one_rows(one)),
        ]
    parts.append("\n".join(verdicts(histories, one)))
    return "\n\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    """Time every command on the benchmark's database and report the medians and ratios."""
    args = parse_args(argv)
    database = common.bench_database(args.database)
    server = database.server_version()
    for root in {command.root for command in args.commands}:
        common.compile_checkout(root)
    print(f"timing {args.runs} runs of each command on database {database.name}")
    histories = []
    for label, settings in args.history_settings.items():
        timings = [Timings(command.label) for command in (*args.commands, STARTUP)]
        history = History(label, settings, timings)
        measure_history(database, history, args.commands, args.runs)
        print(common.text_table(HISTORY_HEADER, history_rows(history.timings)))
        histories.append(history)
    one = None if args.no_one else measure_one(database, args.commands, args.runs)
    if one:
        print(common.text_table(ONE_HEADER, one_rows(one)))
    text = report(histories, one, args.commands, args.runs, server)
    print("\n" + "\n".join(verdicts(histories, one)))
    path = common.save_results("overhead", text)
    print(f"\nreport: {path.relative_to(common.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The figures of the lock-stall benchmark, and their tables for the terminal and markdown."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench import common
from bench.workload import ClientSamples

#: The issue's target for safemigrate with default settings.
TARGET_STALL_MS = 300.0
TARGET = ("benchapp", "0002_account_note")


@dataclass(frozen=True)
class Tool:
    """A way to apply the migration: a command, and safemigrate settings for a variant."""

    label: str
    command: str
    safemigrate_settings: dict[str, Any]

    def argv(self) -> list[str]:
        """Return the command's arguments after ``python -m django``'s command name."""
        extra = ["--json"] if self.command == "safemigrate" else []
        return [*TARGET, "--noinput", *extra]


@dataclass(frozen=True)
class MigrationRun:
    """The migration's child process, and what was seen of it from outside."""

    started: float
    ended: float
    exit_code: int
    stdout: str
    stderr: str
    lock_wait_s: float
    load: float


@dataclass(frozen=True)
class Stats:
    """Figures of the operations due in one window of time, in milliseconds.

    ``worst_ms``, ``p99_ms`` and ``p50_ms`` are latencies (send to reply): how long a query
    was stuck. The delays count from when the operation was due, queueing included: a stall
    shows in few latencies (one per client) but in many delays.
    """

    worst_ms: float
    p99_ms: float
    p50_ms: float
    worst_delay_ms: float
    p99_delay_ms: float
    ops: int
    over_target: int
    worst_at: float

    @classmethod
    def of(cls, clients: Sequence[ClientSamples], start: float, end: float) -> Stats:
        """Compute the figures of every client's operations due in ``[start, end)``."""
        picked = [
            (latency * 1000, delay * 1000, due)
            for samples in clients
            for due, latency, delay in zip(samples.due, samples.latency, samples.delay, strict=True)
            if start <= due < end
        ]
        latencies = sorted(latency for latency, _, _ in picked)
        worst_ms, _, worst_at = max(picked, default=(0.0, 0.0, start))
        return cls(
            worst_ms=worst_ms,
            p99_ms=common.percentile(latencies, 0.99),
            p50_ms=common.percentile(latencies, 0.50),
            worst_delay_ms=max((delay for _, delay, _ in picked), default=0.0),
            p99_delay_ms=common.percentile(sorted(delay for _, delay, _ in picked), 0.99),
            ops=len(latencies),
            over_target=sum(1 for latency in latencies if latency > TARGET_STALL_MS),
            worst_at=worst_at,
        )


@dataclass(frozen=True)
class Outcome:
    """Everything measured for one tool."""

    tool: Tool
    migration: MigrationRun
    blocker_end: float
    baseline: Stats
    during: Stats
    applied: bool
    errors: int
    attempts: list[str]

    @property
    def migration_s(self) -> float:
        """The migration's wall time, from launching the command to its exit."""
        return self.migration.ended - self.migration.started

    @property
    def met_blocker(self) -> bool:
        """Whether the migration ran into the blocker, without which the run shows nothing."""
        return self.migration.lock_wait_s > 0 or any(a != "ok" for a in self.attempts)

    @property
    def meets_target(self) -> bool:
        """Whether the issue's target holds: worst stall <= 300 ms and the migration applied."""
        return self.applied and self.during.worst_ms <= TARGET_STALL_MS

    @property
    def output(self) -> str:
        """What the command printed for a person (safemigrate's stdout is its JSON summary)."""
        run = self.migration
        text = run.stderr if self.tool.command == "safemigrate" else run.stdout + run.stderr
        return text.strip()


HEADER = (
    "tool",
    "worst stall",
    "p99",
    "p50",
    "worst delay",
    "p99 delay",
    "ops",
    f"ops > {TARGET_STALL_MS:.0f} ms",
    "migration wall time",
    "applied",
    "attempts",
)

CONTEXT_HEADER = (
    "tool",
    "baseline worst / p99 / worst delay",
    "migration queued for a lock",
    "worst op due at",
    "blocker left at migration start",
    "met blocker",
    "exit",
    "client errors",
    "load avg",
)


def describe_attempts(outcomes: Sequence[str]) -> str:
    """Return e.g. ``8: lock_timeout x7, ok``, runs of one outcome folded ("-" for migrate)."""
    if not outcomes:
        return "-"
    runs: list[list[Any]] = []
    for outcome in outcomes:
        if runs and runs[-1][0] == outcome:
            runs[-1][1] += 1
        else:
            runs.append([outcome, 1])
    folded = ", ".join(name if count == 1 else f"{name} x{count}" for name, count in runs)
    return f"{len(outcomes)}: {folded}"


def row(outcome: Outcome) -> list[str]:
    """Return the figures the issue asks for, for one tool (see HEADER)."""
    stats = outcome.during
    return [
        outcome.tool.label,
        f"{stats.worst_ms:,.0f} ms",
        f"{stats.p99_ms:,.1f} ms",
        f"{stats.p50_ms:.2f} ms",
        f"{stats.worst_delay_ms:,.0f} ms",
        f"{stats.p99_delay_ms:,.1f} ms",
        f"{stats.ops:,}",
        f"{stats.over_target:,}",
        f"{outcome.migration_s:.2f} s",
        "yes" if outcome.applied else "no",
        describe_attempts(outcome.attempts),
    ]


def context_row(outcome: Outcome) -> list[str]:
    """Return what tells a stall apart from noise, and a valid run from one that met no
    blocker (see CONTEXT_HEADER)."""
    migration = outcome.migration
    return [
        outcome.tool.label,
        f"{outcome.baseline.worst_ms:.0f} / {outcome.baseline.p99_ms:.1f} / "
        f"{outcome.baseline.worst_delay_ms:.0f} ms",
        f"{migration.lock_wait_s:.2f} s",
        f"{outcome.during.worst_at - migration.started:+.2f} s",
        f"{outcome.blocker_end - migration.started:.2f} s",
        "yes" if outcome.met_blocker else "NO: run invalid",
        str(migration.exit_code),
        str(outcome.errors),
        f"{migration.load:.2f}",
    ]


def verdict(outcome: Outcome) -> str:
    """Say whether a safemigrate run meets the issue's target, or could not tell."""
    if not outcome.met_blocker:
        return (
            f"- {outcome.tool.label}: invalid run, the migration never met the blocker "
            "(was the machine so busy that Django took longer to start than the blocker lasted?)"
        )
    met = "meets" if outcome.meets_target else "misses"
    return (
        f"- {outcome.tool.label}: {met} the target (worst stall <= {TARGET_STALL_MS:.0f} ms "
        "and the migration applied)"
    )


def describe_setup(args: argparse.Namespace, server: str) -> str:
    """Describe the run's parameters and machine, without which its figures mean little."""
    env = common.environment()
    variants = "".join(
        f"; {tool.label} runs with SAFEMIGRATE = {json.dumps(tool.safemigrate_settings)}"
        for tool in args.selected
        if tool.safemigrate_settings
    )
    return (
        f"{args.rows:,} rows, blocker {args.blocker_seconds:g} s, {args.clients} clients at "
        f"{args.rate:g} ops/s each ({args.update_share:.0%} UPDATEs), migration starts "
        f"{args.migrate_after:g} s into the blocker; safemigrate's default settings{variants}. "
        f"PostgreSQL {server}, Python {env['python']}, Django {env['django']}, "
        f"{env['cpus']} CPUs, {env['platform']}."
    )


def report(outcomes: Sequence[Outcome], args: argparse.Namespace, server: str) -> str:
    """Return the markdown report of the run (the terminal gets the same tables as text)."""
    outputs = [
        f"<details><summary>{o.tool.label} output</summary>\n\n```\n{o.output}\n```\n</details>"
        for o in outcomes
    ]
    return "\n\n".join(
        [
            "## lock_stall",
            describe_setup(args, server),
            common.markdown_table(HEADER, [row(o) for o in outcomes]),
            common.markdown_table(CONTEXT_HEADER, [context_row(o) for o in outcomes]),
            "\n".join(verdict(o) for o in outcomes if o.tool.command == "safemigrate"),
            *outputs,
        ]
    )

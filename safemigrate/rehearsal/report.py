"""What a rehearsal found, and how it reads: a text report, or a JSON document (``--json``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from safemigrate.rehearsal.phases import PhaseResult
from safemigrate.rehearsal.queries import QueryCheck


@dataclass
class Rehearsal:
    """Everything one rehearsal measured and decided."""

    database: str
    copy: str = ""
    method: str = ""
    copy_seconds: float = 0.0
    sampled: dict[str, tuple[int, int]] = field(default_factory=dict)
    copy_dropped: bool = False
    orphans_dropped: list[str] = field(default_factory=list)
    phases: list[PhaseResult] = field(default_factory=list)
    #: Differences from the schema before the plan, after the rollback.
    rollback_differences: list[str] = field(default_factory=list)
    #: Differences from the schema after the first apply, after the second.
    reapply_differences: list[str] = field(default_factory=list)
    queries: list[QueryCheck] = field(default_factory=list)
    #: (step, what went wrong), in the order they were found.
    failures: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)

    def fail(self, step: str, problem: str) -> None:
        self.failures.append((step, problem))

    @property
    def passed(self) -> bool:
        return not self.failures

    def phase(self, name: str) -> PhaseResult | None:
        return next((phase for phase in self.phases if phase.name == name), None)

    def operations(self) -> list[dict[str, Any]]:
        """Each operation once, with its time in every phase that ran it."""
        rows: dict[tuple[str, int], dict[str, Any]] = {}
        for phase in self.phases:
            key_ms = "backwards_ms" if phase.name == "rollback" else "forwards_ms"
            for op in phase.operations:
                if key_ms not in op:
                    continue
                row = rows.setdefault(
                    (op["migration"], op["index"]),
                    {k: op[k] for k in ("migration", "index", "description")},
                )
                row[f"{phase.name}_ms"] = op[key_ms]
        return list(rows.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "passed": self.passed,
            "failures": [{"step": step, "problem": problem} for step, problem in self.failures],
            "copy": {
                "name": self.copy,
                "method": self.method,
                "seconds": round(self.copy_seconds, 3),
                "sampled": {t: {"rows": r, "of": of} for t, (r, of) in self.sampled.items()},
                "dropped": self.copy_dropped,
            },
            "orphans_dropped": self.orphans_dropped,
            "phases": [
                {
                    "name": p.name,
                    "exit_code": p.exit_code,
                    "error": p.error,
                    "seconds": round(p.seconds, 3),
                    "migrations": p.applied(),
                }
                for p in self.phases
            ],
            "operations": self.operations(),
            "schema": {
                "after_rollback": self.rollback_differences,
                "after_reapply": self.reapply_differences,
            },
            "queries": [check.as_dict() for check in self.queries],
            "timings_stored_for": self.stored,
            "notes": self.notes,
        }


PHASES = ("apply", "rollback", "re-apply")


def render(rehearsal: Rehearsal) -> str:
    """Return the report as the operator reads it."""
    return "\n".join(_lines(rehearsal)) + "\n"


def _lines(r: Rehearsal) -> Iterator[str]:
    verdict = "passed" if r.passed else f"FAILED at {', '.join(s for s, _ in r.failures)}"
    yield f"Rehearsal of {r.database}: {verdict}"
    for name in r.orphans_dropped:
        yield f"  Dropped {name}, a copy a killed rehearsal left."
    if r.copy:
        yield f"  Copy {r.copy} made by {r.method or '-'} in {r.copy_seconds:.2f}s" + (
            ", dropped after."
            if r.copy_dropped
            else ", NOT dropped: the next rehearsal or --doctor --yes drops it."
        )
    for table, (rows, estimate) in r.sampled.items():
        yield f"  Sampled {table}: {rows:,} of about {estimate:,} rows."
    yield from _phases(r)
    yield from _operations(r)
    yield from _schemas(r)
    yield from _queries(r)
    for step, problem in r.failures:
        yield f"  FAILED at {step}: {problem}"
    for note in r.notes:
        yield f"  Note: {note}"
    if r.stored:
        yield f"  Timings stored with the reviews of {', '.join(r.stored)}."


def _phases(r: Rehearsal) -> Iterator[str]:
    for phase in r.phases:
        state = "ok" if phase.ok else f"exit code {phase.exit_code}"
        applied = ", ".join(phase.applied()) or "nothing"
        yield f"  {phase.name}: {state} in {phase.seconds:.2f}s ({applied})"


def _operations(r: Rehearsal) -> Iterator[str]:
    rows = r.operations()
    if not rows:
        return
    yield ""
    yield f"  {'operation':<72} " + " ".join(f"{name:>10}" for name in PHASES)
    for row in rows:
        what = f"{row['migration']} #{row['index']} {row['description']}"[:72]
        times = " ".join(_ms(row.get(f"{name}_ms")) for name in PHASES)
        yield f"  {what:<72} {times}"
    yield ""


def _ms(value: float | None) -> str:
    return f"{'-':>10}" if value is None else f"{value:>8.1f}ms"


def _schemas(r: Rehearsal) -> Iterator[str]:
    if (rollback := r.phase("rollback")) and rollback.ok:
        yield "  Schema after the rollback: " + (
            "as before the plan." if not r.rollback_differences else "DIFFERENT from before:"
        )
        yield from (f"    {line}" for line in r.rollback_differences)
    if (reapply := r.phase("re-apply")) and reapply.ok:
        yield "  Schema after the re-apply: " + (
            "as after the first apply." if not r.reapply_differences else "DIFFERENT:"
        )
        yield from (f"    {line}" for line in r.reapply_differences)


def _queries(r: Rehearsal) -> Iterator[str]:
    if not r.queries:
        return
    yield f"  Queries replayed before and after the plan ({len(r.queries)}):"
    for check in r.queries:
        query = " ".join(check.query.split())
        yield f"    {query[:100]}{'...' if len(query) > 100 else ''}  [{check.source}]"
        yield f"      {_query_verdict(check)}"


def _query_verdict(check: QueryCheck) -> str:
    if check.note and not check.before.shape:
        return check.note
    if check.before.error:
        return f"fails before the plan already: {check.before.error}"
    if check.after.error:
        return f"RUINED: fails after the plan: {check.after.error}"
    plan = (
        f"plan changed: {' > '.join(check.before.shape)}  ->  {' > '.join(check.after.shape)}"
        if check.plan_changed
        else "plan unchanged"
    )
    timing = ""
    if check.ratio is not None:
        timing = (
            f"; {check.before.median_ms:.2f}ms -> {check.after.median_ms:.2f}ms "
            f"({check.ratio:.2f}x)"
        )
    flag = "RUINED: " if check.ruined else ""
    return f"{flag}{plan}{timing}{'; ' + check.note if check.note else ''}"

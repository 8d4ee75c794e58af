"""Score safemigrate, squawk and django-migration-linter on the corpus; time the analysis.

Run from the repository root with a PostgreSQL in DATABASE_URL (an empty database is fine):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench python -m bench.analysis

It exports every corpus case (tests/analysis/corpus/cases.py) as a real migration package, lints it
with each tool, scores each tool against the case's ground truth (``Case.dangerous``), times
``safemigrate --lint`` against ``migrate --plan``, and writes bench/README-analysis.md.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
REPORT = ROOT / "bench" / "README-analysis.md"
#: Rules about the migration tool's session settings; safemigrate sets both timeouts itself.
SQUAWK_TIMEOUTS = {"require-lock-timeout", "require-statement-timeout"}
#: Type and style rules, not about locks or deployed code.
SQUAWK_HYGIENE = {
    "prefer-big-int",
    "prefer-bigint-over-int",
    "prefer-bigint-over-smallint",
    "prefer-identity",
    "prefer-text-field",
    "prefer-timestamptz",
    "prefer-robust-stmts",
    "ban-char-field",
    "prefer-timestamp-tz",
}


def _setup() -> None:
    from bench import synthetic

    shutil.rmtree(WORK, ignore_errors=True)
    synthetic.write(WORK, 500)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.analysis_settings"
    import django

    django.setup()


def _export(cases: list) -> None:
    from django.db.migrations.writer import MigrationWriter

    from tests.analysis.corpus.base import base_migration
    from tests.analysis.corpus.run import case_migration

    root = WORK / "benchcases"
    root.mkdir(parents=True, exist_ok=True)
    (root / "__init__.py").write_text("")
    for case in cases:
        package = root / case.name
        package.mkdir()
        (package / "__init__.py").write_text("")
        for migration in (base_migration(), case_migration(case)):
            text = MigrationWriter(migration, include_header=False).as_string()
            (package / f"{migration.name}.py").write_text(text)


def _safemigrate(case, *, static: bool = False) -> bool:
    """Whether safemigrate flags the case; ``static`` ignores the case's live statistics."""
    from dataclasses import replace

    from django.db import connection

    from safemigrate.analysis.rules import Severity
    from tests.analysis.corpus.run import analyse_case

    report = analyse_case(connection, replace(case, rows=None) if static else case)
    return any(f.severity >= Severity.WARNING and not f.acknowledged for f in report.findings)


def _sqlmigrate(case) -> str:
    from django.core.management import call_command
    from django.test import override_settings

    out = io.StringIO()
    with override_settings(MIGRATION_MODULES={"scenarioapp": f"benchcases.{case.name}"}):
        try:
            call_command("sqlmigrate", "scenarioapp", "0002_case", stdout=out, no_color=True)
        except Exception as error:  # what sqlmigrate cannot render, squawk never sees
            return f"-- sqlmigrate failed: {error}\n"
    return out.getvalue()


def _squawk(sql: str, path: Path) -> set[str]:
    path.write_text(sql)
    done = subprocess.run(
        ["squawk", "--reporter", "json", "--pg-version", "15", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        violations = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        return {"parse-error"}
    return {str(v.get("rule_name") or v.get("rule") or "?") for v in violations}


def _linter(case) -> tuple[bool, bool]:
    """Return (errors, warnings) from django-migration-linter on the case's migration."""
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.test import override_settings
    from django_migration_linter import MigrationLinter

    with override_settings(MIGRATION_MODULES={"scenarioapp": f"benchcases.{case.name}"}):
        migration = MigrationLoader(connection).get_migration("scenarioapp", "0002_case")
        linter = MigrationLinter(
            str(ROOT), no_cache=True, ignore_sqlmigrate_errors=True, no_output=True
        )
        try:
            with redirect_stdout(io.StringIO()):
                linter.lint_migration(migration)
        except Exception:  # a crash fails the CI job: it counts as flagging the migration
            return True, True
    return linter.nb_erroneous > 0, linter.nb_warnings > 0


def _score(truth: list[bool], predicted: list[bool]) -> tuple[float, float, int, int, int]:
    tp = sum(t and p for t, p in zip(truth, predicted, strict=True))
    fp = sum(p and not t for t, p in zip(truth, predicted, strict=True))
    fn = sum(t and not p for t, p in zip(truth, predicted, strict=True))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, tp, fp, fn


def _best_of(runs: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def _timings() -> dict[str, tuple[float, float]]:
    from django.core.management import call_command
    from django.db import connection

    from safemigrate.analysis.context import AnalysisContext
    from safemigrate.analysis.engine import analyse
    from safemigrate.analysis.plan import Selection

    found = {}
    for app in ("shop", "synthapp"):

        def plan(app: str = app) -> None:
            call_command("migrate", app, plan=True, stdout=io.StringIO())

        def lint(app: str = app) -> None:
            selection = Selection(app_label=app, assume_production=True)
            analyse(connection, selection, AnalysisContext(assume_production=True))

        found[app] = (_best_of(5, plan), _best_of(5, lint))
    return found


def _shell_timings() -> dict[str, tuple[float, float]]:
    """Wall-clock time of the two commands as a user runs them, start-up included."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.analysis_settings",
        "PYTHONPATH": str(ROOT),
    }
    django = [sys.executable, "-m", "django"]

    def run(*args: str) -> None:
        subprocess.run([*django, *args], env=env, cwd=ROOT, capture_output=True, check=False)

    return {
        app: (
            _best_of(3, lambda app=app: run("migrate", app, "--plan")),
            _best_of(
                3,
                lambda app=app: run(
                    "safemigrate", app, "--lint", "--assume-production", "--format", "json"
                ),
            ),
        )
        for app in ("shop", "synthapp")
    }


def main() -> None:
    _setup()
    from tests.analysis.corpus.cases import CASES

    cases = [case for case in CASES if not case.allow]
    _export(cases)
    rows = []
    sql_dir = WORK / "sql"
    sql_dir.mkdir()
    for case in cases:
        squawk_rules = _squawk(_sqlmigrate(case), sql_dir / f"{case.name}.sql")
        errors, warnings = _linter(case)
        rows.append(
            {
                "case": case.name,
                "dangerous": case.dangerous,
                "safemigrate": _safemigrate(case),
                "safemigrate_static": _safemigrate(case, static=True),
                "squawk": bool(squawk_rules),
                "squawk_no_timeouts": bool(squawk_rules - SQUAWK_TIMEOUTS),
                "squawk_lock": bool(squawk_rules - SQUAWK_TIMEOUTS - SQUAWK_HYGIENE),
                "squawk_rules": sorted(squawk_rules),
                "linter": errors,
                "linter_warn": errors or warnings,
            }
        )
    timings = _timings()
    shell = _shell_timings()
    REPORT.write_text(_markdown(rows, timings, shell))
    (WORK / "results.json").write_text(json.dumps(rows, indent=2))
    print(REPORT.read_text())


def _revision() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def _server_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return str(cursor.fetchone()[0]).split()[0]


_TOOLS = (
    ("safemigrate", "safemigrate (live statistics where the case has them)"),
    ("safemigrate_static", "safemigrate --assume-production (no statistics)"),
    ("squawk", "squawk 2.70, default rules"),
    ("squawk_no_timeouts", "squawk, without require-lock/statement-timeout"),
    ("squawk_lock", "squawk, lock rules only"),
    ("linter", "django-migration-linter, errors"),
    ("linter_warn", "django-migration-linter, errors and warnings"),
)


def _markdown(
    rows: list[dict],
    timings: dict[str, tuple[float, float]],
    shell: dict[str, tuple[float, float]],
) -> str:
    truth = [row["dangerous"] for row in rows]
    lines = [
        "# Analysis benchmark",
        "",
        "Generated by `python -m bench.analysis`; do not edit by hand. "
        f"Measured at commit {_revision()} on PostgreSQL {_server_version()}.",
        "",
        f"Corpus: {len(rows)} cases from `tests/analysis/corpus/cases.py` "
        f"({sum(truth)} dangerous, {len(rows) - sum(truth)} safe).",
        "",
        "| Tool | Precision | Recall | TP | FP | FN |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for key, label in _TOOLS:
        precision, recall, tp, fp, fn = _score(truth, [row[key] for row in rows])
        lines.append(f"| {label} | {precision:.2f} | {recall:.2f} | {tp} | {fp} | {fn} |")
    lines += [
        "",
        "## Analysis time",
        "",
        "Best of five, in-process, after Django's start-up: `migrate <app> --plan` against "
        "the analysis of the same plan (`safemigrate --lint <app> --assume-production`).",
        "",
        "| History | migrate --plan | safemigrate --lint | Ratio |",
        "| --- | --- | --- | --- |",
    ]
    names = {"shop": "example project (shop, 4 migrations)", "synthapp": "synthetic, 500"}
    for app, (plan, lint) in timings.items():
        lines.append(f"| {names[app]} | {plan:.3f}s | {lint:.3f}s | {lint / plan:.1f}x |")
    lines += [
        "",
        "The same two commands run from the shell (`python -m django ...`, start-up "
        "included, best of three):",
        "",
        "| History | migrate --plan | safemigrate --lint | Ratio |",
        "| --- | --- | --- | --- |",
    ]
    for app, (plan, lint) in shell.items():
        lines.append(f"| {names[app]} | {plan:.2f}s | {lint:.2f}s | {lint / plan:.1f}x |")
    lines += [
        "",
        "## Cases where a tool disagrees with the ground truth",
        "",
        "| Case | Dangerous | safemigrate | squawk (rules) | linter (errors/warnings) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        wrong = [row[key] != row["dangerous"] for key, _ in _TOOLS]
        if any(wrong):
            lines.append(
                f"| {row['case']} | {row['dangerous']} | {row['safemigrate']} | "
                f"{row['squawk']} ({', '.join(row['squawk_rules']) or '-'}) | "
                f"{row['linter']}/{row['linter_warn']} |"
            )
    mean = statistics.mean(truth)
    lines += ["", f"Share of dangerous cases: {mean:.2f}.", "", _CAVEATS]
    return "\n".join(lines)


_CAVEATS = """## How to read these figures

- **The corpus is ours.** The cases, their ground truth and safemigrate's rules were written
  together, by the same engineer, for issue 3. safemigrate's 1.00 says the engine does what
  its authors meant on the cases they thought of; it is not an independent measurement. The
  peers' figures are what they do on those same cases. An independent corpus (migrations from
  real projects, labelled by someone else) is the honest next step.
- **Ground truth** (`Case.dangerous`): would the migration, deployed as is on a large table in
  use, block traffic, break the deployed code, lose data, fail, or be impossible to roll back?
  Hygiene findings (json, timestamp, char, integer keys) are not dangerous. Cases that carry
  live statistics (`rows=`) are judged with them: a rewrite of a 300-row table is safe. The one
  case with an acknowledgement (`safemigrate = {"allow": ...}`) is left out.
- **A tool flags a case** when it reports anything: safemigrate a warning or an error;
  squawk any violation (variants with rule groups removed are shown); django-migration-linter
  an error (or also a warning). A crash of django-migration-linter (it cannot render an
  atomic `AddIndexConcurrently`) counts as a flag: it fails the CI job.
- **squawk reads SQL only**: it gets `sqlmigrate`'s output, so it cannot see RunPython,
  reversibility, table sizes or hot tables. Its `require-lock-timeout` and
  `require-statement-timeout` rules fire on every file without `SET lock_timeout`, which
  safemigrate's runner sets itself.
- **Timings** run on a shared development machine; treat them as orders of magnitude.
  `migrate --plan` only walks the graph; the analysis renders Django's project state for
  every operation (as `sqlmigrate` does) and parses every statement. From the shell, a
  short history is dominated by Django's start-up (about a second here), so a ratio near 1
  (either way) is noise; the 500-migration history shows the analysis's own cost.
"""


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()

"""Run the analysis for the command: ``--lint``, and the check before plain ``safemigrate``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from safemigrate.analysis.context import AnalysisContext
from safemigrate.analysis.engine import analyse
from safemigrate.analysis.formats import render
from safemigrate.analysis.plan import Selection
from safemigrate.analysis.probes import (
    live_index_probe,
    live_not_null_probe,
    live_probe,
    live_write_rate,
)
from safemigrate.analysis.report import AnalysisReport
from safemigrate.analysis.rules import get_rule
from safemigrate.analysis.tracedb import trace_report
from safemigrate.conf import conf
from safemigrate.exceptions import (
    AnalysisFailed,
    LintFindings,
    SafemigrateError,
    UnsafeMigration,
)

FORMATS = ("text", "json", "github")


def selection_from(options: Mapping[str, Any]) -> Selection:
    """Read what to judge from the command's options."""
    return Selection(
        app_label=options.get("app_label"),
        migration_name=options.get("migration_name"),
        assume_production=bool(options.get("assume_production")),
        since=options.get("since"),
        include_third_party=bool(options.get("include_third_party")),
        baseline=tuple(sorted(conf.baseline.items())),
    )


def context_from(connection: BaseDatabaseWrapper, selection: Selection) -> AnalysisContext:
    """Build the context from settings; live statistics unless judging as production."""
    live = not selection.assume_production
    return AnalysisContext(
        assume_production=selection.assume_production,
        small_table_rows=conf.small_table_rows,
        hot_tables=conf.hot_tables,
        probe=live_probe(connection) if live else None,
        hot_writes_per_second=conf.hot_writes_per_second,
        write_rate=live_write_rate(connection) if live else None,
        index_probe=live_index_probe(connection) if live else None,
        not_null_probe=live_not_null_probe(connection) if live else None,
    )


def run_analysis(connection: BaseDatabaseWrapper, options: Mapping[str, Any]) -> AnalysisReport:
    """Judge the plan the options describe (``--lint`` judges the rollbacks too)."""
    selection = replace(selection_from(options), judge_rollback=bool(options.get("lint")))
    report = analyse(connection, selection, context_from(connection, selection))
    if options.get("trace"):
        trace_report(connection, report, report.items)
    return report


def lint_command(connection: BaseDatabaseWrapper, options: Mapping[str, Any], fmt: str) -> str:
    """Return ``--lint``'s report in ``fmt``; raise ``LintFindings`` after it if it blocks.

    The report travels on the exception too, so the command prints it before failing.
    """
    report = run_analysis(connection, options)
    text = render(report, fmt)
    if report.blocking:
        raise LintFindings(
            f"{len(report.blocking)} error-level finding(s): rewrite the operations as each "
            "fix says, or acknowledge them with safemigrate = {'allow': {...}}.",
            report=text,
        )
    return text


def analyse_before_run(
    connection: BaseDatabaseWrapper, options: Mapping[str, Any]
) -> AnalysisReport:
    """Analyse the plan before applying it; an analysis that breaks says how to go on."""
    try:
        return run_analysis(connection, options)
    except SafemigrateError:
        raise
    except Exception as error:
        # An operation safemigrate cannot render without running it must not block a deploy
        # silently, nor be waved through: say what broke and what the escape hatch is.
        raise AnalysisFailed(
            f"safemigrate could not analyse the plan: {type(error).__name__}: {error}. "
            "Fix: run manage.py safemigrate --lint for the details (and report it if the "
            "migration is valid), or pass --allow-unsafe to migrate without the analysis."
        ) from error


def refuse_unsafe(report: AnalysisReport) -> None:
    """Raise ``UnsafeMigration`` naming each blocking finding and how to proceed."""
    blocking = report.blocking
    if not blocking:
        return
    lines = [f"safemigrate refuses to run {len(blocking)} unsafe operation(s):"]
    for migration, operation, finding in blocking:
        rule = get_rule(finding.rule_id)
        lines.append(
            f"  {migration.label} #{operation.index} {operation.description}: "
            f"{finding.rule_id} {finding.message}\n    fix: {rule.safe} ({rule.docs})"
        )
    first = blocking[0][2].rule_id
    lines.append(
        "Rewrite these operations as the fix says; or, if one is safe here, acknowledge it in "
        f"its migration with safemigrate = {{'allow': {{'{first}': 'why it is safe'}}}}; or "
        "run with --allow-unsafe."
    )
    raise UnsafeMigration("\n".join(lines))

"""Run the analysis for the command: ``--lint``, and the check before plain ``safemigrate``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor

from safemigrate.analysis.context import AnalysisContext
from safemigrate.analysis.engine import analyse
from safemigrate.analysis.formats import render
from safemigrate.analysis.plan import PlanItem, Selection, build_plan
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
from safemigrate.postgres.sessions import session_settings

FORMATS = ("text", "json", "github")
#: The analysis reads sizes (``pg_total_relation_size`` takes ACCESS SHARE): behind a session
#: holding a table, it gives up on that table at once rather than queue.
PROBE_LIMITS = {"lock_timeout": "100ms"}


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


def judge(
    connection: BaseDatabaseWrapper,
    selection: Selection,
    plan: tuple[MigrationExecutor, list[PlanItem]] | None = None,
) -> AnalysisReport:
    """Judge the plan ``selection`` describes, with the live context the settings give.

    This is the one judged plan: ``--lint``, the check before a run, the approval gate and
    the runbook all read what it returns. Its reads of live statistics never queue for a
    lock: a table someone holds is judged as large and in use.
    """
    with connection.cursor() as cursor, session_settings(cursor, PROBE_LIMITS):
        return analyse(connection, selection, context_from(connection, selection), plan)


def lint_command(connection: BaseDatabaseWrapper, options: Mapping[str, Any], fmt: str) -> str:
    """Return ``--lint``'s report in ``fmt``; raise ``LintFindings`` after it if it blocks.

    ``--lint`` judges the rollbacks too. The report travels on the exception, so the command
    prints it before failing. An analysis that breaks is a failed lint (exit 1) that says
    what broke, never a traceback.
    """
    selection = replace(selection_from(options), judge_rollback=True)
    plan = build_plan(connection, selection)
    try:
        report = judge(connection, selection, plan)
    except SafemigrateError:
        raise
    except Exception as error:  # a bug of safemigrate's: say so, and fail the lint
        raise LintFindings(
            f"safemigrate could not analyse the plan: {type(error).__name__}: {error}. "
            "Please report it with the migration that caused it.",
            report="",
        ) from error
    if options.get("trace"):
        trace_report(connection, report, report.items)
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
    """Analyse the plan before applying it; an analysis that breaks says how to go on.

    An operation that cannot be judged is a finding on that operation; this only catches
    what is left: a bug of safemigrate's. A rollback then runs anyway, with a warning (the
    emergency exit is never blocked); a forward plan is refused with the escape hatch.
    """
    selection = replace(selection_from(options), judge_backwards=False, judge_new_tables=False)
    plan = build_plan(connection, selection)
    try:
        return judge(connection, selection, plan)
    except SafemigrateError:
        raise
    except Exception as error:
        reason = f"{type(error).__name__}: {error}"
        if any(item.backwards for item in plan[1]):
            return AnalysisReport(
                items=plan[1],
                loader=plan[0].loader,
                warning=f"safemigrate could not analyse this rollback ({reason}); rolling "
                "back without the analysis: a rollback is never refused.",
            )
        # Not waved through silently: say what broke and what the escape hatch is.
        raise AnalysisFailed(
            f"safemigrate could not analyse the plan: {reason}. "
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

"""Print an analysis: a readable table, JSON, or GitHub workflow annotations."""

from __future__ import annotations

import json
import os
from pathlib import Path

from safemigrate.analysis.estimate import describe
from safemigrate.analysis.report import (
    AnalysisReport,
    Finding,
    MigrationReport,
    OperationReport,
    StatementReport,
)
from safemigrate.analysis.rules import Severity, get_rule


def render(report: AnalysisReport, fmt: str) -> str:
    """Return the report in ``fmt`` (``text``, ``json`` or ``github``)."""
    return {"text": text, "json": as_json, "github": github}[fmt](report)


def as_json(report: AnalysisReport) -> str:
    return json.dumps(report.as_dict(), indent=2)


def text(report: AnalysisReport) -> str:
    lines: list[str] = []
    for migration in report.migrations:
        lines += _migration_lines(migration)
    if not report.migrations:
        lines.append("No migrations to analyse.")
    for label, reason in sorted(report.skipped.items()):
        if "third-party" not in reason:
            lines.append(f"skipped {label}: {reason}")
    counts = {s: sum(f.severity == s for f in report.findings) for s in Severity}
    lines.append(
        f"{len(report.migrations)} migration(s): {counts[Severity.ERROR]} error(s), "
        f"{counts[Severity.WARNING]} warning(s), {counts[Severity.INFO]} note(s); "
        f"{len(report.blocking)} blocking."
    )
    return "\n".join(lines)


def _migration_lines(migration: MigrationReport) -> list[str]:
    mode = "atomic" if migration.atomic else "not atomic"
    direction = ", backwards" if migration.backwards else ""
    lines = [f"{migration.label} ({mode}{direction})"]
    for op in migration.operations:
        lines.append("  " + _operation_line(op))
        lines += [_trace_line(s) for s in op.statements if s.trace is not None]
        lines += [_finding_line(f) for f in op.findings]
    rollback = migration.rollback.findings if migration.rollback else []
    if rollback:
        lines.append("  rolling it back:")
        lines += ["  " + _finding_line(f) for f in rollback]
    return lines


def _operation_line(op: OperationReport) -> str:
    lock = op.strongest.pg_name if op.strongest else "no lock"
    rewrites = sorted({t for s in op.statements for t in s.rewrites})
    scans = sorted({t for s in op.statements for t in s.scans})
    work = "rewrite" if rewrites else "scan" if scans else "metadata"
    sizes = ", ".join(
        f"{table} ~{stats.rows if stats.rows is not None else '?'} rows"
        for table, stats in op.stats.items()
    )
    tables = ", ".join(op.tables) or "-"
    return (
        f"#{op.index} {op.description} | {lock} on {tables} | {work} | "
        f"{sizes or 'size unknown'} | {describe(op.estimate_s)}"
    )


def _trace_line(statement: StatementReport) -> str:
    traced = statement.trace
    if traced.error:
        return f"      trace: failed: {traced.error}"
    if not traced.observed:
        return "      trace: ran outside a transaction; locks not observed"
    if statement.disagreement:
        return f"      trace wins: {statement.disagreement}"
    return "      trace: agrees"


def _finding_line(finding: Finding) -> str:
    rule = get_rule(finding.rule_id)
    extra = f" [{finding.context}]" if finding.context else ""
    ack = f"\n      acknowledged: {finding.acknowledged}" if finding.acknowledged else ""
    return (
        f"      {finding.severity.label.upper()} {finding.rule_id} {finding.message}{extra}\n"
        f"      fix: {rule.safe}  ({rule.docs}){ack}"
    )


_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def github(report: AnalysisReport) -> str:
    """One ``::error file=...,line=...`` annotation per finding, on the operation's line."""
    lines = []
    for migration in report.migrations:
        path = _relative(migration.path)
        for op in migration.operations:
            for finding in op.findings:
                level = "notice" if finding.acknowledged else _GITHUB_LEVEL[finding.severity]
                location = f"file={path},line={op.line or 1}"
                rule = get_rule(finding.rule_id)
                message = _escape(f"{finding.message}. Fix: {rule.safe} See {rule.docs}.")
                title = (
                    _escape(f"{finding.rule_id} {rule.title}")
                    .replace(",", "%2C")
                    .replace(":", "%3A")
                )
                lines.append(f"::{level} {location},title={title}::{message}")
    return "\n".join(lines)


def _relative(path: str) -> str:
    root = Path(os.environ.get("GITHUB_WORKSPACE", Path.cwd())).resolve()
    try:
        return str(Path(path).resolve().relative_to(root))
    except ValueError:
        return path


def _escape(value: str) -> str:
    """Escape as GitHub's workflow commands require (``%``, newlines, and ``,``/``:``)."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

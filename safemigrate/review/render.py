"""Render a runbook dict as Markdown, HTML or JSON.

User-supplied text (SQL, descriptions, names) reaches HTML only through Django templates,
which escape it; Markdown puts SQL in fenced blocks and everything else through ``_md``.
"""

from __future__ import annotations

import json
from typing import Any

from django.template.loader import render_to_string

FORMATS = ("md", "html", "json")


def render(book: dict[str, Any], fmt: str) -> str:
    """Return the runbook in ``fmt``: ``md``, ``html`` or ``json``."""
    if fmt == "json":
        return json.dumps(book, indent=2, default=str)
    if fmt == "html":
        return render_to_string("safemigrate/runbook_page.html", {"book": book})
    return markdown(book)


def _md(text: object) -> str:
    """Keep table cells on one line and their pipes literal."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(book: dict[str, Any]) -> str:
    lines: list[str] = []
    summary = book["summary"]
    db = book["database"]
    lines += [
        f"# Migration runbook: {_md(db['name'])}",
        "",
        f"Generated {book['generated_at']} for database `{db['alias']}` ({_md(db['name'])}).",
        "",
        "## Summary",
        "",
        f"- Migrations: {summary['migrations']}, operations: {summary['operations']}, "
        f"tables: {summary['tables']}",
        f"- Strongest lock: {summary['strongest_lock']}",
        f"- Estimated duration: {summary['estimated']}",
        f"- Worst stall in a lock storm: {book['storm']['worst_stall']}",
        f"- Breaking changes: {summary['breaking_changes']}; irreversible steps: "
        f"{summary['irreversible']}; findings: {summary['findings']} ({summary['errors']} errors)",
        "",
    ]
    lines += _tables(book) + _migrations(book) + _breaking(book) + _rollback(book)
    lines += _backup(book) + _checklist(book)
    return "\n".join(lines) + "\n"


def _tables(book: dict[str, Any]) -> list[str]:
    lines = ["## Affected tables", "", "| Table | Rows | Size |", "| --- | --- | --- |"]
    for t in book["tables"]:
        rows = "-" if t["rows"] is None else f"{t['rows']:,}"
        lines.append(f"| {_md(t['name'])} | {rows} | {_md(t['size'])} |")
    if not book["tables"]:
        lines.append("| (none) | | |")
    return [*lines, ""]


def _migrations(book: dict[str, Any]) -> list[str]:
    lines = ["## Migrations", ""]
    if not book["migrations"]:
        lines += ["No pending migrations.", ""]
    for m in book["migrations"]:
        lines += [
            f"### {_md(m['label'])} ({m['direction']})",
            "",
            f"Deploy phase: {_phase(m)}.",
            "",
            f"Atomic: {'yes' if m['atomic'] else 'no'}; estimated: {m['estimated']}; "
            f"rollback target: `{m['rollback_to']}`.",
            "",
            "| # | Operation | Phase | Lock | Tables | Estimated | Findings |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for op in m["operations"]:
            findings = "; ".join(
                f"{f['level']} {f['rule']}: {f['message']}" for f in op["findings"]
            )
            lines.append(
                f"| {op['index'] + 1} | {_md(op['description'])} | {op['phase']} | {op['lock']} "
                f"| {_md(', '.join(op['tables']) or '-')} | {op['estimated']} "
                f"| {_md(findings or 'none')} |"
            )
        sql = [text for op in m["operations"] for text in op["sql"]]
        lines += ["", "```sql", *(sql or ["-- no SQL (Python code or state only)"]), "```", ""]
    return lines


def _phase(m: dict[str, Any]) -> str:
    """Say when the migration may run, and why, for the operator of a deploy."""
    if m["deploy_phase"] == "rollback":
        return "rollback (never held back)"
    label = str(m["deploy_phase"]).replace("_", "-")
    return f"**{label}** ({_md(m['deploy_phase_source'])})"


def _breaking(book: dict[str, Any]) -> list[str]:
    lines = ["## Breaking changes", ""]
    for item in book["breaking_changes"]:
        lines.append(f"- **{_md(item['migration'])}**: {_md(item['operation'])}: {item['why']}")
    if not book["breaking_changes"]:
        lines.append("None: no drop, rename or type change.")
    return [*lines, ""]


def _rollback(book: dict[str, Any]) -> list[str]:
    lines = ["## Rollback", "", "Run, in this order, to undo this plan:", "", "```console"]
    lines += book["rollback_commands"] or ["# nothing to roll back"]
    lines += ["```", "", "### Irreversible steps", ""]
    for item in book["irreversible"]:
        lines.append(f"- **{_md(item['migration'])}**: {_md(item['operation'])}: {item['why']}")
    if not book["irreversible"]:
        lines.append("None: every operation has a backwards step.")
    return [*lines, ""]


def _backup(book: dict[str, Any]) -> list[str]:
    return [
        "## Backup",
        "",
        "Take before migrating (pg_dump reads the password from PGPASSWORD or ~/.pgpass):",
        "",
        "```console",
        *book["backup_commands"],
        "```",
        "",
    ]


def _checklist(book: dict[str, Any]) -> list[str]:
    lines = ["## Checklist", ""]
    for section in book["checklist"]:
        lines += [f"### {_md(section['section'])}", ""]
        for item in section["items"]:
            if item["answer"]:
                lines.append(f"- [x] {_md(item['text'])}: {_md(item['answer'])}")
            else:
                lines.append(f"- [ ] {_md(item['text'])} (for people to check)")
        lines.append("")
    return lines

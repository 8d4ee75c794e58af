"""The runbook of a plan: everything a reviewer and an operator need, as one JSON-ready dict.

The Markdown, HTML and JSON formats and the admin's pending page all render this one dict,
so they cannot disagree. It answers the checklist items the tool can answer (tables,
duration, locks, rollback, backup, the postconditions that verify the data) and leaves the
others to people.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from safemigrate.analysis.report import Finding
from safemigrate.analysis.rules import get_rule
from safemigrate.conf import conf
from safemigrate.conf.checklist import ChecklistItem
from safemigrate.postgres.tables import format_bytes, quote_relation
from safemigrate.review.impact import format_ms
from safemigrate.review.inspection import MigrationInfo, PlanInfo, inspect_plan
from safemigrate.review.reviews import rehearsed
from safemigrate.review.storm import storm_stall

CHECKLIST_SECTIONS = ("Planning", "Development", "Testing", "Deployment")
#: The operations that check the data (``safemigrate.operations.Verify``, ``VerifyPython``).
POSTCONDITION_KINDS = ("Verify", "VerifyPython")


def build_runbook(
    connection: BaseDatabaseWrapper,
    app_label: str | None = None,
    migration_name: str | None = None,
) -> dict[str, Any]:
    """Return the runbook of the plan ``safemigrate [app_label] [migration_name]`` would run."""
    info = inspect_plan(connection, app_label, migration_name)
    return runbook_from(info, connection, conf.checklist)


def runbook_from(
    info: PlanInfo, connection: BaseDatabaseWrapper, checklist: Sequence[ChecklistItem]
) -> dict[str, Any]:
    """Assemble the runbook from an inspected plan (split out so tests can feed one)."""
    measured = rehearsed(
        connection,
        {
            (m.item.migration.app_label, m.item.migration.name): m.fingerprint
            for m in info.migrations
        },
    )
    book: dict[str, Any] = {
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "database": _database(connection),
        "schema_state": info.schema_state,
        "tables": [_table(stats) for stats in info.tables.values()],
        "migrations": [_migration(m, measured) for m in info.migrations],
        "breaking_changes": _breaking(info.migrations),
        "irreversible": _irreversible(info.migrations),
        "rollback_commands": rollback_commands(info.migrations, connection.alias),
        "backup_commands": backup_commands(
            connection, [t.name for t in info.tables.values() if t.exists]
        ),
        "storm": storm_stall([t.name for t in info.tables.values() if t.exists]),
    }
    book["summary"] = _summary(info, book)
    book["checklist"] = _checklist(checklist, book)
    return book


def _database(connection: BaseDatabaseWrapper) -> dict[str, Any]:
    params = connection.settings_dict
    return {
        "alias": connection.alias,
        "name": str(params.get("NAME") or ""),
        "host": str(params.get("HOST") or ""),
        "port": str(params.get("PORT") or ""),
        "user": str(params.get("USER") or ""),
    }


def _table(stats: Any) -> dict[str, Any]:
    return {
        "name": stats.name,
        "exists": stats.exists,
        "rows": stats.rows,
        "size_bytes": stats.size_bytes,
        "size": format_bytes(stats.size_bytes) if stats.exists else "new table",
    }


def _migration(
    m: MigrationInfo, measured: Mapping[tuple[str, str], tuple[int, str]]
) -> dict[str, Any]:
    """One migration of the runbook; its duration measured by a rehearsal when there was one."""
    rehearsal = measured.get((m.item.migration.app_label, m.item.migration.name))
    estimated = format_ms(m.estimated_ms, m.runs_python)
    if rehearsal is not None:
        estimated = f"{_ms(rehearsal[0])} (measured by the rehearsal of {rehearsal[1]})"
    return {
        "app_label": m.item.migration.app_label,
        "name": m.item.migration.name,
        "label": m.item.label,
        "direction": "backwards" if m.item.backwards else "forwards",
        # A rollback runs whenever it is asked for: phases never hold one back.
        "deploy_phase": "rollback" if m.item.backwards else m.deploy_phase.phase.value,
        "deploy_phase_source": "" if m.item.backwards else m.deploy_phase.source,
        "atomic": m.atomic,
        "fingerprint": m.fingerprint,
        "estimated_ms": m.estimated_ms,
        "measured_ms": rehearsal[0] if rehearsal else None,
        "duration_source": "rehearsal" if rehearsal else "estimate",
        "runs_python": m.runs_python,
        "estimated": estimated,
        "has_errors": m.has_errors,
        "rollback_to": m.rollback_to,
        "operations": [
            {
                "index": op.index,
                "kind": op.kind,
                "description": op.description,
                "phase": op.phase,
                "tables": op.tables,
                "lock": op.lock_name,
                "reversible": op.reversible,
                "breaking": op.breaking,
                "estimated_ms": op.estimated_ms,
                "estimated": format_ms(op.estimated_ms, op.python),
                "findings": [_finding(f) for f in op.findings],
                "sql": op.sql,
            }
            for op in m.operations
        ],
    }


def _finding(finding: Finding) -> dict[str, str]:
    """A finding as reviewers read it: an acknowledged error counts as a warning."""
    return {
        "rule": finding.rule_id,
        "level": "warning" if finding.acknowledged else finding.severity.label,
        "message": finding.message,
        "hint": get_rule(finding.rule_id).safe,
    }


def _breaking(migrations: Sequence[MigrationInfo]) -> list[dict[str, str]]:
    return [
        {"migration": m.item.label, "operation": op.description, "why": op.breaking}
        for m in migrations
        for op in m.operations
        if op.breaking
    ]


def _irreversible(migrations: Sequence[MigrationInfo]) -> list[dict[str, str]]:
    """List the operations that cannot be unapplied: a rollback past them (or, when this plan
    is itself a rollback, this very plan) fails with ``IrreversibleError``."""
    return [
        {
            "migration": m.item.label,
            "operation": op.description,
            "why": _why_irreversible(op.kind, m.item.backwards),
        }
        for m in migrations
        for op in m.operations
        if not op.reversible
    ]


def _why_irreversible(kind: str, backwards: bool) -> str:
    reason = {
        "RunPython": "RunPython without reverse_code",
        "RunSQL": "RunSQL without reverse_sql",
    }.get(kind, f"{kind} is not reversible (reversible = False)")
    return (
        f"{reason}: this plan fails at it" if backwards else f"{reason}: rolling back past it fails"
    )


def rollback_commands(migrations: Sequence[MigrationInfo], alias: str) -> list[str]:
    """Return one command per app, last app first, that undoes this plan in that app.

    Undoing a forward plan goes back to the parent of the app's first migration in it;
    undoing a rollback re-applies up to the migration that is applied now.
    """
    first: dict[str, MigrationInfo] = {}
    for m in migrations:
        first.setdefault(m.item.migration.app_label, m)
    database = "" if alias == "default" else f" --database {shlex.quote(alias)}"
    return [
        f"python manage.py safemigrate {shlex.quote(app)} {shlex.quote(m.rollback_to)}{database}"
        for app, m in reversed(first.items())
    ]


def backup_commands(connection: BaseDatabaseWrapper, tables: Sequence[str]) -> list[str]:
    """Return pg_dump commands for the whole database and for the affected tables.

    The password is never part of them: pg_dump reads it from PGPASSWORD or ~/.pgpass.
    """
    db = _database(connection)
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    options = [f"--{key}={shlex.quote(db[key])}" for key in ("host", "port") if db[key]]
    if db["user"]:
        options.append(f"--username={shlex.quote(db['user'])}")
    base = " ".join(["pg_dump", "--format=custom", *options])
    name = shlex.quote(db["name"])
    commands = [f"{base} --file={shlex.quote(db['name'] + '-' + stamp)}.dump {name}"]
    if tables:
        # pg_dump reads --table as a pattern: quoted, a name is matched exactly as written.
        only = " ".join(f"--table={shlex.quote(quote_relation(t))}" for t in tables)
        commands.append(
            f"{base} {only} --file={shlex.quote(db['name'] + '-tables-' + stamp)}.dump {name}"
        )
    return commands


def _ms(value: int) -> str:
    """A measured duration: exact below a second, where estimates only say ``< 1 s``."""
    return f"{value} ms" if value < 1000 else format_ms(value)


def _summary(info: PlanInfo, book: dict[str, Any]) -> dict[str, Any]:
    ops = [op for m in info.migrations for op in m.operations]
    durations = [
        m["estimated_ms"] if m["measured_ms"] is None else m["measured_ms"]
        for m in book["migrations"]
    ]
    total = sum(durations)
    measured = sum(1 for m in book["migrations"] if m["measured_ms"] is not None)
    # A measured migration's Python code is in its time: only unmeasured ones add their own.
    runs_python = any(
        m.runs_python and b["measured_ms"] is None
        for m, b in zip(info.migrations, book["migrations"], strict=True)
    )
    strongest = max((op.lock for op in ops if op.lock), default=None)
    return {
        "migrations": len(info.migrations),
        "operations": len(ops),
        "tables": len(info.tables),
        "strongest_lock": strongest.name.replace("_", " ") if strongest else "none",
        "estimated_ms": total,
        "estimated": format_ms(total, runs_python),
        "measured_migrations": measured,
        "breaking_changes": len(book["breaking_changes"]),
        "irreversible": len(book["irreversible"]),
        "findings": sum(len(op.findings) for op in ops),
        "errors": sum(1 for op in ops for f in op.findings if f.blocking),
    }


def _checklist(items: Sequence[ChecklistItem], book: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the checklist by section, each item with the tool's answer or ``None``."""
    answers = _answers(book)
    sections: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        answer = answers.get(item.answer) if item.answer else None
        sections.setdefault(item.section, []).append(
            {"id": item.id, "text": item.text, "answer": answer}
        )
    return [{"section": name, "items": entries} for name, entries in sections.items()]


def _answers(book: dict[str, Any]) -> dict[str, str | None]:
    summary = book["summary"]
    existing = {t["name"] for t in book["tables"] if t["exists"]}
    locks = _lock_answer(book["migrations"], existing)
    irreversible = summary["irreversible"]
    return {
        "schema_state": "Applied now: "
        + (", ".join(f"{app}.{name}" for app, name in _plan_apps_state(book)) or "nothing"),
        "tables": "; ".join(
            f"{t['name']} ({_rows(t['rows'])}, {t['size']})" for t in book["tables"]
        )
        or "No table is touched.",
        "backup": " ; ".join(book["backup_commands"]),
        "duration": _duration_answer(summary),
        "locks": locks,
        "rollback": " ; ".join(book["rollback_commands"]) or "Nothing to roll back.",
        "operations": f"{summary['operations']} operation(s) in {summary['migrations']} "
        "migration(s), listed below.",
        "reversibility": "Every operation is reversible."
        if not irreversible
        else f"{irreversible} irreversible step(s): see 'Irreversible steps'.",
        "breaking": "No breaking change."
        if not book["breaking_changes"]
        else f"{len(book['breaking_changes'])} breaking change(s): see 'Breaking changes'.",
        "history": "safemigrate records every statement with its timing, lock waits and "
        "blockers in the run history (admin: Safemigrate > Runs).",
        "postconditions": _postcondition_answer(book["migrations"]),
    }


def _duration_answer(summary: dict[str, Any]) -> str:
    """Say the total and where it comes from: the rehearsal's timings, estimates, or both."""
    measured, total = summary["measured_migrations"], summary["migrations"]
    if not measured:
        source = "estimated from table sizes"
    elif measured == total:
        source = "measured by the rehearsal (safemigrate --rehearse)"
    else:
        source = (
            f"measured by the rehearsal for {measured} of {total} migration(s), estimated "
            "from table sizes for the rest"
        )
    return f"About {summary['estimated']} in total ({source})."


def _postcondition_answer(migrations: list[dict[str, Any]]) -> str | None:
    """Name the checks the plan runs after its migrations; without any, it is for people."""
    checks = [
        f"{m['label']}: {op['description'].removeprefix('Verify: ')}"
        for m in migrations
        if m["direction"] == "forwards"
        for op in m["operations"]
        if op["kind"] in POSTCONDITION_KINDS
    ]
    if not checks:
        return None
    return f"Checked by {len(checks)} postcondition(s), which fail their migration: " + "; ".join(
        checks
    )


def _plan_apps_state(book: dict[str, Any]) -> list[tuple[str, str]]:
    apps = sorted({m["app_label"] for m in book["migrations"]})
    return [(app, book["schema_state"].get(app, "zero")) for app in apps]


def _rows(rows: int | None) -> str:
    return "rows unknown" if rows is None else f"~{rows:,} rows"


def _lock_answer(migrations: list[dict[str, Any]], existing: set[str]) -> str:
    """Name the existing tables locked so that traffic waits (new tables have no traffic)."""
    held: dict[str, str] = {}
    for m in migrations:
        for op in m["operations"]:
            for table in set(op["tables"]) & existing:
                if op["lock"] in ("ACCESS EXCLUSIVE", "EXCLUSIVE", "SHARE", "SHARE ROW EXCLUSIVE"):
                    held.setdefault(table, op["lock"])
    if not held:
        return "No lock that blocks reads or writes of existing traffic."
    longest = max((m["estimated_ms"] for m in migrations), default=0)
    return "; ".join(f"{lock} on {table}" for table, lock in sorted(held.items())) + (
        f". Longest migration (estimated): {format_ms(longest)}."
    )

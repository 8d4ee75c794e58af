"""Each operation's place in the expand/contract pattern, and each migration's deploy phase.

A migration is post-deploy only if the code of the release before it breaks on it: a column
or table it drops, a name it changes. Everything else is pre-deploy, safe while the old code
still serves. The phase comes from, in order:

1. the migration's ``safemigrate = {"phase": "post_deploy"}``;
2. another tool's marker on it (``markers``: django-safemigrate's ``safe = Safe...``);
3. its operations: an operation may declare ``deploy_phase`` (safemigrate's own operations
   do); otherwise ``ROLES`` knows it by class, looked up along its classes from the most
   derived, and ``RunSQL`` is read for drops and renames.

These are rules as data: ``ROLES`` and ``POST_DEPLOY_SQL`` are the tables, and the runbook's
expand/contract column and its breaking changes read the same ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db.migrations import Migration
from django.db.migrations.operations.base import Operation

from safemigrate.declarations import Phase, declared_phase
from safemigrate.deploy.markers import django_safemigrate_marker

PRE, POST = Phase.PRE_DEPLOY, Phase.POST_DEPLOY


@dataclass(frozen=True)
class Role:
    """What an operation is in the expand/contract pattern, and when it may run."""

    #: ``expand`` (adds), ``contract`` (removes), ``data`` (changes rows) or ``change``.
    kind: str
    phase: Phase = PRE
    #: Why code of the release before breaks on it; set exactly when ``phase`` is post-deploy.
    breaks: str = ""


EXPAND, CONTRACT, DATA, CHANGE = Role("expand"), Role("contract"), Role("data"), Role("change")
_RENAMES_TABLE = "renames a table: code using the old name fails until it is deployed"

#: Operation classes by name. A class not listed takes its nearest listed base class's role.
ROLES: dict[str, Role] = {
    **dict.fromkeys(
        (
            "CreateModel",
            "AddField",
            "AddIndex",
            "AddConstraint",
            "AddIndexConcurrently",
            "AddConstraintNotValid",
            "CreateExtension",
            "ValidateConstraint",
            "AddFieldSafely",
            "AddUniqueConstraintConcurrently",
            "AddIndexToPartitionedTable",
            # Adds the new column and its trigger; the old column stays for old code.
            "RenameFieldSafely",
            # Renames the table and bridges the old name with a view old code uses.
            "RenameModelSafely",
        ),
        EXPAND,
    ),
    # Old code runs on without an index or a constraint, and without what only the state had.
    **dict.fromkeys(
        (
            "RemoveIndex",
            "RemoveConstraint",
            "RemoveIndexConcurrently",
            "RemoveFieldFromState",
            "DeleteModelFromState",
        ),
        CONTRACT,
    ),
    # Their classes declare ``deploy_phase = Phase.POST_DEPLOY``: old code breaks on them.
    **dict.fromkeys(
        ("RemoveFieldFromDatabase", "DeleteModelFromDatabase", "DetachPartitionConcurrently"),
        CONTRACT,
    ),
    # Type changes under the same names: old code reads and writes as before throughout.
    "AlterFieldTypeSafely": CHANGE,
    "RebuildTableSafely": CHANGE,
    # Drops the archive of a rebuilt table, which no code uses.
    "FinishRebuildTable": CONTRACT,
    # Their classes declare ``deploy_phase = Phase.POST_DEPLOY``: they drop the old column,
    # the view of the old table name.
    "FinishRenameField": CONTRACT,
    "FinishRenameModel": CONTRACT,
    "RunPython": DATA,
    "RemoveField": Role(
        "contract",
        POST,
        "drops a column: code still reading or writing it fails, and its data is lost",
    ),
    "DeleteModel": Role(
        "contract", POST, "drops a table: code still using it fails, and its data is lost"
    ),
    "RenameField": Role(
        "change", POST, "renames a column: code using the old name fails until it is deployed"
    ),
    "RenameModel": Role("change", POST, _RENAMES_TABLE),
    "AlterModelTable": Role("change", POST, _RENAMES_TABLE),
    # django-deferred-migrations keeps what old code uses and queues the drop for its own
    # post-deploy command: the migration itself is safe before the deploy.
    **dict.fromkeys(
        ("DeferredRemoveField", "DeferredDeleteModel", "DeferredRenameModel"), CONTRACT
    ),
}

#: (pattern on SQL, why old code breaks on it): what makes a ``RunSQL`` post-deploy.
POST_DEPLOY_SQL: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"\bDROP\s+COLUMN\s+(?:IF\s+EXISTS\s+)?(\S+)", re.I),
        "drops column {0}: its data is lost",
    ),
    (
        re.compile(r"^\s*DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(\S+)", re.I | re.M),
        "drops table {0}: its data is lost",
    ),
    (re.compile(r"\bRENAME\s+COLUMN\s+(\S+)", re.I), "renames column {0}"),
    (re.compile(r"^\s*ALTER\s+TABLE\s+(\S+)\s+RENAME\s+TO\b", re.I | re.M), "renames table {0}"),
)


def role_of(operation: Operation) -> Role:
    """Return the operation's role; a ``deploy_phase`` it declares overrides the table's."""
    role = next((ROLES[c.__name__] for c in type(operation).__mro__ if c.__name__ in ROLES), None)
    role = role or CHANGE
    declared = getattr(operation, "deploy_phase", None)
    if declared is None or Phase(declared) == role.phase:
        return role
    return Role(role.kind, Phase(declared), role.breaks)


def sql_breaks(sql: str) -> str:
    """Return why code of the release before breaks on ``sql`` (a drop or rename), or ``""``."""
    for pattern, why in POST_DEPLOY_SQL:
        if match := pattern.search(sql):
            return why.format(match.group(1))
    return ""


def operation_phase(operation: Operation) -> tuple[Phase, str]:
    """Return the operation's phase and, when it is post-deploy, why."""
    role = role_of(operation)
    if role.phase == POST:
        return POST, role.breaks or f"{type(operation).__name__} declares it post-deploy"
    if type(operation).__name__ != "RunSQL":
        return PRE, ""
    why = next(filter(None, map(sql_breaks, _sql_texts(getattr(operation, "sql", "")))), "")
    return (POST, why) if why else (PRE, "")


def _sql_texts(sql: object) -> Iterator[str]:
    """``RunSQL.sql`` is a string, or a list of strings and ``(sql, params)`` pairs."""
    if isinstance(sql, str):
        yield sql
    elif isinstance(sql, list | tuple):
        for item in sql:
            yield item if isinstance(item, str) else str(item[0])


@dataclass(frozen=True)
class MigrationPhase:
    """A migration's deploy phase, and where it comes from, in words for the operator."""

    phase: Phase
    source: str


def _declared(migration: Migration) -> tuple[Phase, str] | None:
    phase = declared_phase(migration)
    if phase is None:
        return None
    return phase, f'declared: safemigrate = {{"phase": "{phase.value}"}}'


#: Where a migration says its own phase, first found wins; else its operations decide.
DECLARATIONS: tuple[Callable[[Migration], tuple[Phase, str] | None], ...] = (
    _declared,
    django_safemigrate_marker,
)


def migration_phase(migration: Migration) -> MigrationPhase:
    """Return the migration's deploy phase: declared, marked, or inferred from its operations."""
    for read in DECLARATIONS:
        if found := read(migration):
            return MigrationPhase(*found)
    for operation in migration.operations:
        phase, why = operation_phase(operation)
        if phase == POST:
            return MigrationPhase(POST, f"inferred: {operation.describe()}: {why}")
    return MigrationPhase(PRE, "inferred: nothing in it breaks the code of the release before")

"""Give a column's indexes and constraints to the column replacing it, without long locks.

While both columns exist, each index and constraint of the old column gets a copy on the new
one under a derived name (``copy_name``): indexes built ``CONCURRENTLY``, checks and foreign
keys added ``NOT VALID`` then validated, a unique constraint through a concurrent unique
index, a primary key's index built now and attached when the old column goes. When the old
column is dropped, in one short transaction (``retire_statements``), each copy takes its
original's name back, so the final schema is the one the plain operation would have made.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from django.db import NotSupportedError

from safemigrate.operations.base import DOCS, Editor, alter_table, checkpoint, probe
from safemigrate.operations.constraints import (
    add_unique_using_index,
    constraint_exists,
    validate_constraint,
)
from safemigrate.operations.indexes import build_index
from safemigrate.postgres import columns
from safemigrate.postgres.columns import ColumnFacts, Dependent
from safemigrate.postgres.rewrite import constraint_copy, index_copy
from safemigrate.postgres.tables import quote_identifier, quote_relation, sibling

MAX_NAME = 63
_TEXT_TYPES = ("character varying", "varchar", "text", "character", "bpchar", "citext")
#: The operator classes of a text column's pattern index, by the new type's family.
_PATTERN_OPCLASSES = ("varchar_pattern_ops", "text_pattern_ops", "bpchar_pattern_ops")


def copy_name(name: str, column: str) -> str:
    """The name of ``name``'s copy on ``column``: recognisable, at most 63 bytes."""
    digest = hashlib.md5(f"{name}\0{column}".encode(), usedforsecurity=False).hexdigest()[:6]
    return f"{name.encode()[: MAX_NAME - 9].decode(errors='ignore')}_sm{digest}"


def opclasses_for(new_type: str | None) -> Mapping[str, str | None] | None:
    """Operator classes a pattern index needs on ``new_type`` (``None`` keeps them all).

    Django drops a text column's ``_like`` index when the column stops being text, and
    builds it with ``text_pattern_ops`` on ``text`` and ``varchar_pattern_ops`` on varchar.
    """
    if new_type is None:
        return None
    lowered = new_type.lower()
    if not lowered.startswith(_TEXT_TYPES):
        return dict.fromkeys(_PATTERN_OPCLASSES)
    wanted = "text_pattern_ops" if lowered.startswith("text") else "varchar_pattern_ops"
    return dict.fromkeys(_PATTERN_OPCLASSES, wanted)


def refuse_unsupported(schema_editor: Editor, table: str, column: str, operation: str) -> None:
    """Refuse what no copy can carry: foreign keys of other tables pointing at the column
    (they would have to move with it), and exclusion constraints (built only under lock)."""
    pointing = probe(schema_editor, columns.references_to, table, column, default=[])
    if pointing:
        raise NotSupportedError(
            f"{operation} cannot replace {table}.{column}: foreign keys point at it "
            f"({', '.join(pointing)}), and they would have to be dropped and validated again "
            "on the new column, and their own columns changed with it. Change the "
            f"referencing columns first, or follow {DOCS}type-changes.md#foreign-keys."
        )
    for dependent in probe(schema_editor, columns.dependents, table, column, default=[]):
        if dependent.kind == "x":
            raise NotSupportedError(
                f"{operation} cannot replace {table}.{column}: its exclusion constraint "
                f"{dependent.name} can only be built under an ACCESS EXCLUSIVE lock. "
                f"Follow {DOCS}type-changes.md by hand in a maintenance window."
            )


def build_copies(
    schema_editor: Editor,
    table: str,
    source: str,
    target: str,
    operation: str,
    opclasses: Mapping[str, str | None] | None = None,
) -> None:
    """Copy each index and constraint of ``source`` to ``target``, resumably."""
    for dependent in probe(schema_editor, columns.dependents, table, source, default=[]):
        name = copy_name(dependent.name, target)
        if dependent.is_index:
            create = index_copy(dependent.definition, source, target, name, opclasses)
            if create is not None:
                build_index(schema_editor, table, name, create, operation)
        elif dependent.kind in ("c", "f"):
            _copy_constraint(schema_editor, table, dependent, source, target, name, operation)
        elif dependent.kind in ("u", "p"):
            _copy_unique(schema_editor, table, dependent, source, target, name, operation)


def _copy_constraint(
    editor: Editor, table: str, dependent: Dependent, source: str, target: str, name: str, op: str
) -> None:
    """A check or a foreign key: added ``NOT VALID`` (a moment's lock), then validated."""
    if not constraint_exists(editor, table, name):
        definition = constraint_copy(dependent.definition, source, target, not_valid=True)
        alter_table(editor, table, f"ADD CONSTRAINT {quote_identifier(name)} {definition}")
        checkpoint(editor, op, f"add {name} not valid")
    validate_constraint(editor, table, name)
    checkpoint(editor, op, f"validate {name}")


def _copy_unique(
    editor: Editor, table: str, dependent: Dependent, source: str, target: str, name: str, op: str
) -> None:
    """A unique constraint's index built concurrently, attached as a constraint at once; a
    primary key's index waits for the old key to go (a table has one primary key)."""
    if constraint_exists(editor, table, name):
        return
    create = index_copy(dependent.index_definition, source, target, name)
    assert create is not None
    build_index(editor, table, name, create, op)
    if dependent.kind == "u":
        add_unique_using_index(editor, table, name, _deferrable(dependent))


def _deferrable(dependent: Dependent) -> str:
    if not dependent.deferrable:
        return ""
    return " DEFERRABLE INITIALLY DEFERRED" if dependent.deferred else " DEFERRABLE"


def retire_statements(
    table: str,
    source: str,
    kept: str,
    dependents: list[Dependent],
    facts: ColumnFacts | None,
    *,
    present: set[str] | None,
    move_generated: bool,
    final: str | None = None,
) -> list[str]:
    """SQL dropping ``source`` and handing its names, default and sequence to ``kept``.

    To run in one transaction with the trigger's drop: ``kept`` is renamed ``final`` (a
    type change under the same name), each copy on ``kept`` (of those named in ``present``;
    all when ``None``) takes its original's name back, and ``move_generated`` moves the
    column's default, identity or serial sequence to ``kept``.
    """
    final = final or kept
    qtable, qsource = quote_relation(table), quote_identifier(source)
    qkept, qfinal = quote_identifier(kept), quote_identifier(final)
    before, after = _generated(table, kept, final, facts) if move_generated else ([], [])
    statements = [*before, f"ALTER TABLE {qtable} DROP COLUMN IF EXISTS {qsource}"]
    if final != kept:
        statements.append(f"ALTER TABLE {qtable} RENAME COLUMN {qkept} TO {qfinal}")
    if move_generated and facts is not None and facts.default and not facts.identity:
        statements.append(f"ALTER TABLE {qtable} ALTER COLUMN {qfinal} SET DEFAULT {facts.default}")
    for dependent in dependents:
        copy = copy_name(dependent.name, kept)
        if present is None or copy in present:
            statements.extend(_take_name_back(qtable, table, dependent, copy))
    return statements + after


def exchange_statements(
    table: str, source: str, kept: str, dependents: list[Dependent], present: set[str] | None
) -> list[str]:
    """SQL giving ``source``'s names to their copies on ``kept``, and the copies' to ``source``'s
    own: as they were before ``retire_statements`` moved them (a primary key stays where it is:
    moving it would rebuild its index)."""
    statements = []
    for dependent in dependents:
        copy = copy_name(dependent.name, kept)
        if dependent.kind == "p" or (present is not None and copy not in present):
            continue
        away = copy_name(dependent.name, source)
        statements += [
            *_rename(table, dependent, dependent.name, away),
            *_rename(table, dependent, copy, dependent.name),
        ]
    return statements


def _rename(table: str, dependent: Dependent, name: str, new: str) -> list[str]:
    if dependent.is_index:
        index = quote_relation(sibling(table, name))
        return [f"ALTER INDEX IF EXISTS {index} RENAME TO {quote_identifier(new)}"]
    qname, qnew = quote_identifier(name), quote_identifier(new)
    return [f"ALTER TABLE {quote_relation(table)} RENAME CONSTRAINT {qname} TO {qnew}"]


def _take_name_back(qtable: str, table: str, dependent: Dependent, copy: str) -> list[str]:
    original, qcopy = quote_identifier(dependent.name), quote_identifier(copy)
    if dependent.is_index:
        return [
            f"ALTER INDEX IF EXISTS {quote_relation(sibling(table, copy))} RENAME TO {original}"
        ]
    if dependent.kind == "p":
        return [f"ALTER TABLE {qtable} ADD CONSTRAINT {original} PRIMARY KEY USING INDEX {qcopy}"]
    return [f"ALTER TABLE {qtable} RENAME CONSTRAINT {qcopy} TO {original}"]


def _generated(
    table: str, kept: str, final: str, facts: ColumnFacts | None
) -> tuple[list[str], list[str]]:
    """Statements before and after the drop that move an identity or a serial sequence.

    An identity's sequence goes with its column, so ``kept`` gets an identity of its own,
    set to where the old one was, and takes its name once the old is gone; a serial's
    sequence is let go before the drop (which would drop it) and owned by ``kept`` after.
    """
    if facts is None or facts.sequence is None:
        return [], []
    qtable, qkept = quote_relation(table), quote_identifier(kept)
    sequence = quote_relation(sibling(table, facts.sequence))
    if not facts.identity:
        return (
            [f"ALTER SEQUENCE {sequence} OWNED BY NONE"],
            [f"ALTER SEQUENCE {sequence} OWNED BY {qtable}.{quote_identifier(final)}"],
        )
    temporary = copy_name(facts.sequence, kept)
    qtemporary = quote_relation(sibling(table, temporary))
    kind = "ALWAYS" if facts.identity == "a" else "BY DEFAULT"
    return (
        [
            f"ALTER TABLE {qtable} ALTER COLUMN {qkept} ADD GENERATED {kind} AS IDENTITY "
            f"(SEQUENCE NAME {qtemporary})",
            f"SELECT setval({_regclass(qtemporary)}, s.last_value, s.is_called) FROM {sequence} s",
        ],
        [f"ALTER SEQUENCE {qtemporary} RENAME TO {quote_identifier(facts.sequence)}"],
    )


def move_generated_statements(
    table: str, source: str, kept: str, facts: ColumnFacts | None
) -> list[str]:
    """SQL handing ``source``'s default, identity or serial sequence to ``kept``, both
    columns staying (where ``retire_statements`` drops ``source``)."""
    if facts is None or not (facts.default or facts.identity):
        return []
    qtable, qsource = quote_relation(table), quote_identifier(source)
    before, after = _generated(table, kept, kept, facts)
    if facts.identity:
        let_go = f"ALTER TABLE {qtable} ALTER COLUMN {qsource} DROP IDENTITY"
        return [*before, let_go, *after]
    qkept = quote_identifier(kept)
    return [
        *before,
        f"ALTER TABLE {qtable} ALTER COLUMN {qsource} DROP DEFAULT",
        f"ALTER TABLE {qtable} ALTER COLUMN {qkept} SET DEFAULT {facts.default}",
        *after,
    ]


def _regclass(relation: str) -> str:
    """A relation's (quoted) name as a ``regclass`` literal."""
    return "'" + relation.replace("'", "''") + "'::regclass"


def source_dependents(schema_editor: Editor, table: str, column: str) -> list[Dependent]:
    """The indexes and constraints of ``column`` (none when only collecting SQL)."""
    found: list[Dependent] = probe(schema_editor, columns.dependents, table, column, default=[])
    return found


def facts_of(schema_editor: Editor, table: str, column: str) -> ColumnFacts | None:
    """The column's type, default and sequence (``None`` when only collecting SQL)."""
    facts: Any = probe(schema_editor, columns.column_facts, table, column, default=None)
    return facts if isinstance(facts, ColumnFacts) else None

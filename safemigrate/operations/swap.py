"""The steps of a table rebuild: the shadow's structure, its copies, the swap and the way back.

Names are schema-wide for indexes (and so for unique and primary key constraints) and per
table for the rest: the shadow's indexes are built under copy names and take the originals'
in the swap, while the originals move to the archive under copy names of their own; checks
and foreign keys keep their names on both tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pgtrigger
from django.db import NotSupportedError

from safemigrate.operations import triggers
from safemigrate.operations.base import DOCS, Editor, alter_table, checkpoint, execute, probe
from safemigrate.operations.constraints import (
    add_unique_using_index,
    constraint_exists,
    validate_constraint,
)
from safemigrate.operations.copies import copy_name
from safemigrate.operations.indexes import build_index
from safemigrate.operations.transition import verify_sql
from safemigrate.postgres import columns
from safemigrate.postgres.columns import Dependent
from safemigrate.postgres.rewrite import constraint_copy, index_copy
from safemigrate.postgres.tables import (
    quote_identifier,
    quote_relation,
    relation_exists,
    sibling,
    split_relation,
)


def _bare(table: str) -> str:
    return split_relation(table)[1]


def build_structure(
    editor: Editor, table: str, shadow: str, types: dict[str, str], operation: str
) -> None:
    """Create the shadow: ``LIKE`` the table (columns, defaults, identity, checks, NOT NULL,
    comments, storage), the new types set while it is empty, and the primary key (which the
    copy's upserts need) under its copy name. One transaction; skipped when it exists."""
    if probe(editor, relation_exists, shadow, default=False):
        return
    qshadow, qtable = quote_relation(shadow), quote_relation(table)
    statements = [f"CREATE TABLE {qshadow} (LIKE {qtable} INCLUDING ALL EXCLUDING INDEXES)"]
    for column, kind in types.items():
        qcolumn = quote_identifier(column)
        statements.append(
            f"ALTER TABLE {qshadow} ALTER COLUMN {qcolumn} TYPE {kind} USING {qcolumn}::"
            f"{kind.split(' COLLATE ')[0]}"
        )
    for key in _of(editor, table, "p"):
        name = quote_identifier(copy_name(key.name, _bare(shadow)))
        statements.append(f"ALTER TABLE {qshadow} ADD CONSTRAINT {name} {key.definition}")
    execute(editor, "; ".join(statements))
    checkpoint(editor, operation, "create shadow table")


def _of(editor: Editor, table: str, *kinds: str) -> list[Dependent]:
    found: list[Dependent] = probe(editor, columns.dependents, table, default=[])
    return [d for d in found if d.kind in kinds]


class Swap:
    """The table, its shadow and its archive, and the moves between them."""

    def __init__(self, editor: Editor, model: Any, table: str, shadow: str, archive: str) -> None:
        self.editor, self.model = editor, model
        self.table, self.shadow, self.archive = table, shadow, archive

    def prepare(self, copy: pgtrigger.Trigger, fill: Callable[[bool], None], op: str) -> None:
        """Copy writes and rows into the shadow; give it the table's indexes and constraints."""
        fresh = not triggers.installed(self.editor, self.model, copy)
        if fresh:
            triggers.install(self.editor, self.model, copy)
            checkpoint(self.editor, op, "install trigger")
        fill(fresh)
        checkpoint(self.editor, op, "backfill")
        for dependent in _of(self.editor, self.table, "index", "u", "f", "x"):
            if dependent.kind == "x":
                raise NotSupportedError(
                    f"{op} cannot copy the exclusion constraint {dependent.name} of "
                    f"{self.table}: it builds only under an ACCESS EXCLUSIVE lock. See "
                    f"{DOCS}rebuild-table.md."
                )
            self._copy(dependent, op)
        checkpoint(self.editor, op, "prepared")

    def _copy(self, dependent: Dependent, op: str) -> None:
        editor, shadow = self.editor, self.shadow
        schema, bare = split_relation(shadow)
        name = copy_name(dependent.name, bare)
        if dependent.kind == "f":
            if not constraint_exists(editor, shadow, dependent.name):
                self_reference = (_bare(self.table), bare)
                definition = constraint_copy(
                    dependent.definition, "", "", not_valid=True, references=self_reference
                )
                change = f"ADD CONSTRAINT {quote_identifier(dependent.name)} {definition}"
                alter_table(editor, shadow, change)
            validate_constraint(editor, shadow, dependent.name)
            return
        if dependent.kind == "u" and constraint_exists(editor, shadow, name):
            return
        source = dependent.definition if dependent.is_index else dependent.index_definition
        create = index_copy(source, "", "", name, table=(schema, bare))
        assert create is not None
        build_index(editor, shadow, name, create, op)
        if dependent.kind == "u":
            deferred = " DEFERRABLE INITIALLY DEFERRED" if dependent.deferred else ""
            add_unique_using_index(editor, shadow, name, deferred)

    def forth(self, copy: pgtrigger.Trigger, reverse: pgtrigger.Trigger | None) -> None:
        """Swap the shadow in, the table out to the archive: one short transaction. Then
        validate the foreign keys pointing at it, added again ``NOT VALID``. The archive
        is kept in step by ``reverse`` until a contract drops it; without ``reverse`` (a
        rollback, which no contract follows), it is dropped at once."""
        if not self.editor.collect_sql and not probe(
            self.editor, relation_exists, self.shadow, default=True
        ):
            return  # swapped already: the transaction committed whole
        pgid = triggers.pgid(self.model, copy)
        incoming = self._incoming()
        before, after = self._sequences(self.table, self.shadow, self.archive)
        statements = [verify_sql(self.table, pgid), triggers.drop_sql(self.table, pgid)]
        statements += before + self._drop(incoming)
        statements += self._names(self.table, self.archive, self.shadow)
        statements += self._rename(self.table, self.archive) + self._rename(self.shadow, self.table)
        statements += after + self._readd(incoming)
        if reverse is None:
            statements.append(f"DROP TABLE {quote_relation(self.archive)}")
        else:
            statements.append(reverse.compile(self.model).install_sql)
        execute(self.editor, "; ".join(statements))
        checkpoint(self.editor, "RebuildTableSafely", "swap")
        self._validate(incoming)

    def back(self, reverse: pgtrigger.Trigger) -> None:
        """Swap the archive back in and drop the rebuilt table: one short transaction."""
        pgid = triggers.pgid(self.model, reverse)
        incoming = self._incoming()
        dependents = _of(self.editor, self.table, "index", "u", "p")
        before, after = self._sequences(self.table, self.archive, "")
        statements = [triggers.drop_sql(self.table, pgid), *before, *self._drop(incoming)]
        statements.append(f"DROP TABLE {quote_relation(self.table)}")
        statements += self._rename(self.archive, self.table)
        archive = _bare(self.archive)
        statements += [
            _rename_object(self.table, d, copy_name(d.name, archive), d.name) for d in dependents
        ]
        statements += after + self._readd(incoming)
        execute(self.editor, "; ".join(statements))
        self._validate(incoming)

    def _incoming(self) -> list[tuple[str, str, str]]:
        found: list[tuple[str, str, str]] = probe(
            self.editor, columns.references_to_table, self.table, default=[]
        )
        return found

    def _readd(self, incoming: list[tuple[str, str, str]]) -> list[str]:
        return [
            f"ALTER TABLE {t} ADD CONSTRAINT {quote_identifier(n)} "
            + constraint_copy(d, "", "", not_valid=True)
            for t, n, d in incoming
        ]

    def _validate(self, incoming: list[tuple[str, str, str]]) -> None:
        for table, name, _ in incoming:
            execute(
                self.editor, f"ALTER TABLE {table} VALIDATE CONSTRAINT {quote_identifier(name)}"
            )

    def _names(self, table: str, archive: str, shadow: str) -> list[str]:
        """The table's index and key names to the archive's copies, the shadow's to them."""
        statements = []
        for dependent in _of(self.editor, table, "index", "u", "p"):
            away, back = (
                copy_name(dependent.name, _bare(archive)),
                copy_name(dependent.name, _bare(shadow)),
            )
            statements.append(_rename_object(table, dependent, dependent.name, away))
            statements.append(_rename_object(shadow, dependent, back, dependent.name))
        return statements

    @staticmethod
    def _rename(table: str, to: str) -> list[str]:
        return [f"ALTER TABLE {quote_relation(table)} RENAME TO {quote_identifier(_bare(to))}"]

    def _drop(self, incoming: list[tuple[str, str, str]]) -> list[str]:
        return [f"ALTER TABLE {t} DROP CONSTRAINT {quote_identifier(n)}" for t, n, _ in incoming]

    def _sequences(self, table: str, taker: str, keeper: str) -> tuple[list[str], list[str]]:
        """Statements before and after the renames that hand the sequences of ``table``'s
        columns to ``taker``: an identity's value, and its name (the old one's kept by
        ``keeper`` under a copy name, or dropped with the table when ``keeper`` is empty); a
        serial sequence's ownership (before ``table`` may be dropped)."""
        before, after = [], []
        for name, _ in probe(self.editor, columns.table_columns, table, default=[]):
            facts = probe(self.editor, columns.column_facts, table, name, default=None)
            theirs = probe(self.editor, columns.column_facts, taker, name, default=None)
            if facts is None or facts.sequence is None or theirs is None:
                continue
            sequence = quote_relation(sibling(table, facts.sequence))
            if not facts.identity:
                owner = f"{quote_relation(taker)}.{quote_identifier(name)}"
                before.append(f"ALTER SEQUENCE {sequence} OWNED BY {owner}")
                continue
            other = quote_relation(sibling(taker, str(theirs.sequence)))
            literal = "'" + other.replace("'", "''") + "'::regclass"
            # A sequence copied by LIKE is a bigint one: it takes its column's type, as the
            # original has.
            before.append(f"ALTER SEQUENCE {other} AS {theirs.type}")
            before.append(f"SELECT setval({literal}, s.last_value, s.is_called) FROM {sequence} s")
            if keeper:
                away = quote_identifier(copy_name(facts.sequence, _bare(keeper)))
                before.append(f"ALTER SEQUENCE {sequence} RENAME TO {away}")
            taken = quote_relation(sibling(table, str(theirs.sequence)))
            after.append(f"ALTER SEQUENCE {taken} RENAME TO {quote_identifier(facts.sequence)}")
        return before, after


def _rename_object(table: str, dependent: Dependent, name: str, new: str) -> str:
    if dependent.is_index:
        index = quote_relation(sibling(table, name))
        return f"ALTER INDEX {index} RENAME TO {quote_identifier(new)}"
    qname, qnew = quote_identifier(name), quote_identifier(new)
    return f"ALTER TABLE {quote_relation(table)} RENAME CONSTRAINT {qname} TO {qnew}"

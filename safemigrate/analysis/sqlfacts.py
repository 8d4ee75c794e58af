"""Read what one SQL statement does to existing data: the facts the rules judge.

Every statement is parsed once by ``safemigrate.postgres.statements.parse`` (the same parse
the guard uses for lock modes); the handlers below are tables keyed by parse-node type, by
ALTER TABLE sub-command and by constraint type, so a new fact is a new entry, not a new branch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType, ConstrType, ObjectType

from safemigrate.analysis.expressions import is_volatile, not_null_columns
from safemigrate.analysis.swaps import swapped
from safemigrate.postgres.locks import LockMode
from safemigrate.postgres.statements import StatementInfo, parse
from safemigrate.postgres.tree_names import relation_from_names, relation_name
from safemigrate.postgres.types import is_safe_type_change, type_name

_AT = AlterTableType
_C = ConstrType

_SERIAL_TYPES = frozenset({"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"})
_SMALL_KEY_TYPES = frozenset({"int4", "int2", "serial", "serial4", "smallserial", "serial2"})
_HYGIENE_TYPES = {
    "json": "json_column",
    "timestamp": "timestamp_without_tz",
    "bpchar": "char_column",
}
_DML = (ast.UpdateStmt, ast.DeleteStmt)


@dataclass(frozen=True)
class Fact:
    """One thing a statement or operation does that a rule judges, e.g. ``create_index``."""

    kind: str
    table: str
    detail: str = ""


@dataclass
class SchemaMemory:
    """What the plan has established so far, which later statements depend on.

    ``column_types`` comes from Django's project state (so ALTER TYPE can tell a widening
    from a rewrite), as SQL, or from the plan's own statements, as their parsed type; the
    NOT NULL bookkeeping recognises the safe pattern of a validated ``CHECK (col IS NOT
    NULL)`` before ``SET NOT NULL`` (PostgreSQL 12+ then skips the scan), whether the plan's
    own SQL validated it or ``proves`` finds it in Django's state or the live catalog.
    """

    column_types: dict[tuple[str, str], str | ast.TypeName] = field(default_factory=dict)
    resolve: Callable[[str, str], str | None] | None = None
    references: Callable[[str, str], str | None] | None = None
    proves: Callable[[str, str], bool] | None = None
    not_null_checks: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    proven_not_null: set[tuple[str, str]] = field(default_factory=set)
    #: Constraints added NOT VALID by the migration being read (reset for each migration).
    added_not_valid: set[str] = field(default_factory=set)

    def column_type(self, table: str, column: str) -> str | ast.TypeName | None:
        """Return the column's type, from the plan so far or (as SQL) Django's state."""
        known = self.column_types.get((table, column))
        if known is None and self.resolve is not None:
            known = self.resolve(table, column)
        return known


@dataclass
class StatementFacts:
    """A statement with its locks (``info``), the facts found, and the tables it reads whole."""

    info: StatementInfo
    facts: list[Fact] = field(default_factory=list)
    rewrites: set[str] = field(default_factory=set)
    scans: set[str] = field(default_factory=set)
    #: Locks the SQL does not show, known from the state (a foreign key's referenced table).
    more_locks: dict[str, LockMode] = field(default_factory=dict)
    data_change: bool = False
    atomic: bool = True

    def add(self, kind: str, table: str, detail: str = "") -> None:
        self.facts.append(Fact(kind, table, detail))


def statement_facts(sql: str, memory: SchemaMemory, atomic: bool) -> list[StatementFacts]:
    """Return the facts of each statement in ``sql``; unparseable SQL is a fact of its own."""
    result = []
    parsed = parse(sql)
    for info, node in parsed:
        found = StatementFacts(info, atomic=atomic)
        if node is None:
            found.add("unparseable_sql", "", info.notes[0] if info.notes else "")
        else:
            handler = _STATEMENT_HANDLERS.get(type(node))
            if handler is not None:
                handler(node, found, memory)
            if info.concurrently and atomic:
                found.add("concurrently_in_transaction", _first_table(info))
        result.append(found)
    if len(parsed) > 1 and (harmless := swapped([node for _, node in parsed])):
        for found in result:
            found.facts = [f for f in found.facts if (f.kind, f.table, f.detail) not in harmless]
    return result


def _first_table(info: StatementInfo) -> str:
    return info.locks[0].name if info.locks else ""


# -- ALTER TABLE ---------------------------------------------------------------------------


def _alter_table(node: Any, found: StatementFacts, memory: SchemaMemory) -> None:
    if node.objtype != ObjectType.OBJECT_TABLE:
        return
    table = relation_name(node.relation)
    for cmd in node.cmds or ():
        handler = _ALTER_TABLE_HANDLERS.get(int(cmd.subtype or 0))
        if handler is not None:
            handler(table, cmd, found, memory)


def _add_column(table: str, cmd: Any, found: StatementFacts, memory: SchemaMemory) -> None:
    column = cmd.def_
    constraints = {int(c.contype): c for c in column.constraints or ()}
    name = type_name(column.typeName)
    memory.column_types[(table, str(column.colname))] = column.typeName
    _hygiene(name, table, found)
    default = constraints.get(_C.CONSTR_DEFAULT)
    if name in _SERIAL_TYPES or _C.CONSTR_IDENTITY in constraints or is_volatile(default):
        found.add("add_column_volatile_default", table, str(column.colname))
        found.rewrites.add(table)
    generated = constraints.get(_C.CONSTR_GENERATED)
    if generated is not None and generated.generated_kind != "v":
        found.add("add_stored_generated", table, str(column.colname))
        found.rewrites.add(table)
    filled = default is not None or generated is not None or _C.CONSTR_IDENTITY in constraints
    if _C.CONSTR_NOTNULL in constraints and not filled and name not in _SERIAL_TYPES:
        found.add("add_column_not_null_no_default", table, str(column.colname))
    for constraint in constraints.values():
        _constraint(table, constraint, found, memory)


def _alter_type(table: str, cmd: Any, found: StatementFacts, memory: SchemaMemory) -> None:
    column = str(cmd.name)
    new = cmd.def_.typeName
    _hygiene(type_name(new), table, found)
    old = memory.column_type(table, column)
    memory.column_types[(table, column)] = new
    # PostgreSQL rebuilds a foreign key on the column, locking its referenced table too.
    referenced = memory.references(table, column) if memory.references else None
    if referenced:
        found.more_locks[referenced] = LockMode.ACCESS_EXCLUSIVE
    if old is None or not is_safe_type_change(old, new):
        found.add("alter_column_type", table, column)
        found.rewrites.add(table)


def _set_not_null(table: str, cmd: Any, found: StatementFacts, memory: SchemaMemory) -> None:
    column = str(cmd.name)
    if (table, column) in memory.proven_not_null:
        return
    pending = any((table, column) in cols for cols in memory.not_null_checks.values())
    if not pending and memory.proves is not None and memory.proves(table, column):
        return
    found.add("set_not_null", table, str(cmd.name))
    found.scans.add(table)


def _validate(table: str, cmd: Any, found: StatementFacts, memory: SchemaMemory) -> None:
    found.scans.add(table)
    if found.atomic and str(cmd.name) in memory.added_not_valid:
        found.add("validate_in_same_transaction", table, str(cmd.name))
    memory.proven_not_null |= memory.not_null_checks.pop(str(cmd.name), set())


def _add_constraint(table: str, cmd: Any, found: StatementFacts, memory: SchemaMemory) -> None:
    _constraint(table, cmd.def_, found, memory)


def _drop_column(table: str, cmd: Any, found: StatementFacts, memory: SchemaMemory) -> None:
    found.add("drop_column", table, str(cmd.name))


# -- constraints ---------------------------------------------------------------------------


def _check(table: str, c: Any, found: StatementFacts, memory: SchemaMemory) -> None:
    proves = {(table, column) for column in not_null_columns(c.raw_expr)}
    if c.skip_validation and c.conname:
        memory.added_not_valid.add(str(c.conname))
        memory.not_null_checks[str(c.conname)] = proves
    if not c.skip_validation:
        memory.proven_not_null |= proves
        found.add("add_check", table, str(c.conname or ""))
        found.scans.add(table)


def _foreign(table: str, c: Any, found: StatementFacts, memory: SchemaMemory) -> None:
    if c.skip_validation and c.conname:
        memory.added_not_valid.add(str(c.conname))
    if not c.skip_validation:
        found.add("add_foreign_key", table, relation_name(c.pktable))
        found.scans.add(table)


def _index_backed(kind: str) -> Callable[[str, ast.Constraint, StatementFacts, SchemaMemory], None]:
    def handler(table: str, c: Any, found: StatementFacts, memory: SchemaMemory) -> None:
        if not c.indexname:
            found.add(kind, table, str(c.conname or ""))
            found.scans.add(table)

    return handler


def _constraint(table: str, c: Any, found: StatementFacts, memory: SchemaMemory) -> None:
    handler = _CONSTRAINT_HANDLERS.get(int(getattr(c, "contype", -1)))
    if handler is not None:
        handler(table, c, found, memory)


# -- other statements ----------------------------------------------------------------------


def _create_table(node: Any, found: StatementFacts, memory: SchemaMemory) -> None:
    table = relation_name(node.relation)
    keys = _primary_key_columns(node)
    for element in node.tableElts or ():
        if not isinstance(element, ast.ColumnDef) or element.typeName is None:
            continue  # a typed table's (OF type) options for a column name no type
        name = type_name(element.typeName)
        memory.column_types[(table, str(element.colname))] = element.typeName
        _hygiene(name, table, found)
        inline_pk = any(c.contype == _C.CONSTR_PRIMARY for c in element.constraints or ())
        if (inline_pk or element.colname in keys) and name in _SMALL_KEY_TYPES:
            found.add("int_primary_key", table, str(element.colname))


def _primary_key_columns(node: Any) -> set[str]:
    return {
        str(key.sval)
        for element in node.tableElts or ()
        if isinstance(element, ast.Constraint) and element.contype == _C.CONSTR_PRIMARY
        for key in element.keys or ()
    }


def _hygiene(name: str, table: str, found: StatementFacts) -> None:
    if name in _HYGIENE_TYPES:
        found.add(_HYGIENE_TYPES[name], table, name)


def _index(node: Any, found: StatementFacts, memory: SchemaMemory) -> None:
    table = relation_name(node.relation)
    found.scans.add(table)
    # ON ONLY a partitioned table creates the parent's (INVALID) index and builds nothing:
    # the partitions' indexes are built, CONCURRENTLY, and attached one by one.
    on_only = not node.relation.inh
    if not node.concurrent and not on_only:
        found.add("create_index", table, str(node.idxname or ""))


def _drop(node: Any, found: StatementFacts, memory: SchemaMemory) -> None:
    # Only relations are named by a list of identifiers (a function has its arguments too).
    if node.removeType == ObjectType.OBJECT_INDEX and not node.concurrent:
        kind = "drop_index"
    elif node.removeType == ObjectType.OBJECT_TABLE:
        kind = "drop_table"
    else:
        return
    for obj in node.objects or ():
        found.add(kind, relation_from_names(obj))


def _rename(node: Any, found: StatementFacts, memory: SchemaMemory) -> None:
    table = relation_name(node.relation)
    if node.renameType == ObjectType.OBJECT_COLUMN:
        found.add("rename_column", table, str(node.subname))
        old = memory.column_types.pop((table, str(node.subname)), None)
        if old is not None:
            memory.column_types[(table, str(node.newname))] = old
    elif node.renameType == ObjectType.OBJECT_TABLE:
        found.add("rename_table", table, str(node.newname))


def _dml(node: Any, found: StatementFacts, memory: SchemaMemory) -> None:
    found.data_change = True
    if not _is_batched(node):
        table = relation_name(node.relation)
        found.add("unbatched_dml", table)
        found.scans.add(table)


def _is_batched(node: Any) -> bool:
    """A statement that picks its rows through a ``LIMIT`` sub-select is one batch."""
    from pglast import visitors  # its SQL printers take 20 ms to import; most runs need none

    limits: list[Any] = []

    class _Limits(visitors.Visitor):
        def visit_SelectStmt(self, ancestors: Any, select: Any) -> None:
            if select.limitCount is not None:
                limits.append(select.limitCount)

    _Limits()(node)
    return bool(limits)


def _insert(node: Any, found: StatementFacts, memory: SchemaMemory) -> None:
    found.data_change = True


def _truncate(node: Any, found: StatementFacts, memory: SchemaMemory) -> None:
    found.data_change = True
    for relation in node.relations or ():
        # TRUNCATE gives the table a new, empty file: the trace sees a new relfilenode.
        found.add("truncate", relation_name(relation))
        found.rewrites.add(relation_name(relation))


def _rewrite_table(table: str, cmd: Any, found: StatementFacts, memory: SchemaMemory) -> None:
    """SET TABLESPACE, SET LOGGED and SET UNLOGGED copy the whole table to a new file."""
    found.add("table_rewrite_command", table, "AlterTableStmt")
    found.rewrites.add(table)


def _rebuild(node: Any, found: StatementFacts, memory: SchemaMemory) -> None:
    info = found.info
    if info.concurrently:
        return
    if isinstance(node, ast.VacuumStmt) and info.strongest != LockMode.ACCESS_EXCLUSIVE:
        return
    for lock in info.locks:
        found.add("table_rewrite_command", lock.name, info.kind)
        found.rewrites.add(lock.name)


_Handler = Callable[[Any, StatementFacts, SchemaMemory], None]
_STATEMENT_HANDLERS: dict[type, _Handler] = {
    ast.AlterTableStmt: _alter_table,
    ast.CreateStmt: _create_table,
    ast.IndexStmt: _index,
    ast.DropStmt: _drop,
    ast.RenameStmt: _rename,
    ast.UpdateStmt: _dml,
    ast.DeleteStmt: _dml,
    ast.InsertStmt: _insert,
    ast.TruncateStmt: _truncate,
    ast.VacuumStmt: _rebuild,
    ast.ClusterStmt: _rebuild,
    ast.ReindexStmt: _rebuild,
}
_ALTER_TABLE_HANDLERS: dict[int, Callable[..., None]] = {
    _AT.AT_AddColumn: _add_column,
    _AT.AT_AlterColumnType: _alter_type,
    _AT.AT_SetNotNull: _set_not_null,
    _AT.AT_ValidateConstraint: _validate,
    _AT.AT_AddConstraint: _add_constraint,
    _AT.AT_DropColumn: _drop_column,
    _AT.AT_SetTableSpace: _rewrite_table,
    _AT.AT_SetLogged: _rewrite_table,
    _AT.AT_SetUnLogged: _rewrite_table,
}
_CONSTRAINT_HANDLERS: dict[int, Callable[..., None]] = {
    _C.CONSTR_CHECK: _check,
    _C.CONSTR_FOREIGN: _foreign,
    _C.CONSTR_UNIQUE: _index_backed("add_unique"),
    _C.CONSTR_PRIMARY: _index_backed("add_primary_key"),
    _C.CONSTR_EXCLUSION: _index_backed("add_exclusion"),
}

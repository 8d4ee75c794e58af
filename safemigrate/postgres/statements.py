"""Read a SQL statement with pglast: which relations it locks, in which mode.

The guard uses this to decide, before a statement runs, whether it is ``CONCURRENTLY`` work
(exempt from the lock timeout), which tables' policies apply, and whether pre-flight should
look for long transactions. Lock modes follow the manual's "Table-Level Locks" and the
per-command pages (``ALTER TABLE``, ``CREATE INDEX``, ``DROP INDEX``, ...).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

import pglast
from pglast import ast
from pglast.enums import AlterTableType, ConstrType, ObjectType, ReindexObjectType

from safemigrate.postgres.locks import LockMode
from safemigrate.postgres.tables import qualified_name, quote_relation

_M = LockMode
_AT = AlterTableType

# ALTER TABLE sub-commands that take less than ACCESS EXCLUSIVE; all others take it.
_ALTER_TABLE_LOCKS: dict[int, LockMode] = {
    _AT.AT_ValidateConstraint: _M.SHARE_UPDATE_EXCLUSIVE,
    _AT.AT_SetStatistics: _M.SHARE_UPDATE_EXCLUSIVE,
    # Storage parameters: fillfactor, autovacuum and planner ones take SHARE UPDATE EXCLUSIVE.
    _AT.AT_SetRelOptions: _M.SHARE_UPDATE_EXCLUSIVE,
    _AT.AT_ResetRelOptions: _M.SHARE_UPDATE_EXCLUSIVE,
    _AT.AT_ClusterOn: _M.SHARE_UPDATE_EXCLUSIVE,
    _AT.AT_DropCluster: _M.SHARE_UPDATE_EXCLUSIVE,
    _AT.AT_AttachPartition: _M.SHARE_UPDATE_EXCLUSIVE,
    _AT.AT_EnableTrig: _M.SHARE_ROW_EXCLUSIVE,
    _AT.AT_EnableAlwaysTrig: _M.SHARE_ROW_EXCLUSIVE,
    _AT.AT_EnableReplicaTrig: _M.SHARE_ROW_EXCLUSIVE,
    _AT.AT_DisableTrig: _M.SHARE_ROW_EXCLUSIVE,
    _AT.AT_EnableTrigAll: _M.SHARE_ROW_EXCLUSIVE,
    _AT.AT_DisableTrigAll: _M.SHARE_ROW_EXCLUSIVE,
    _AT.AT_EnableTrigUser: _M.SHARE_ROW_EXCLUSIVE,
    _AT.AT_DisableTrigUser: _M.SHARE_ROW_EXCLUSIVE,
}

# Object kinds whose DROP or RENAME locks a relation by that name.
_RELATION_OBJECTS = {
    ObjectType.OBJECT_TABLE,
    ObjectType.OBJECT_VIEW,
    ObjectType.OBJECT_MATVIEW,
    ObjectType.OBJECT_FOREIGN_TABLE,
    ObjectType.OBJECT_SEQUENCE,
}


@dataclass(frozen=True)
class RelationLock:
    """A lock a statement takes: on a table, or on the table behind an index (``index``)."""

    #: As Django's ``db_table`` writes it: ``shop_order``, or ``"sales"."order"`` when qualified.
    name: str
    mode: LockMode
    via_index: bool = False

    @property
    def regclass(self) -> str:
        """The name quoted for ``to_regclass()``, which would otherwise fold it to lower case."""
        return quote_relation(self.name)


@dataclass(frozen=True)
class StatementInfo:
    """What safemigrate knows about one statement before it runs."""

    sql: str
    kind: str
    locks: tuple[RelationLock, ...] = ()
    concurrently: bool = False
    creates: tuple[str, ...] = ()
    parsed: bool = True
    notes: tuple[str, ...] = field(default=())

    @property
    def strongest(self) -> LockMode | None:
        """The strongest lock mode the statement takes, if any."""
        return max((lock.mode for lock in self.locks), default=None)

    def may_wait_for_locks(self, created: set[str]) -> bool:
        """Whether the statement may queue for a lock another session holds.

        DML is left out (it conflicts only with the strong locks a migration itself takes), and
        so are locks on tables this run created, which nobody else uses yet.
        """
        if not self.parsed:
            return True
        if any(lock.name not in created for lock in self.locks if lock.mode > _M.ROW_EXCLUSIVE):
            return True
        return self.is_ddl and not self.locks and self.kind not in _LOCK_FREE_CREATES

    @property
    def is_ddl(self) -> bool:
        """Whether the statement changes schema (and so takes locks ordinary traffic waits on)."""
        return self.kind not in _DML_KINDS and self.parsed


# Statements that create a new object and lock no existing relation (inline foreign keys are
# read into ``locks``).
_LOCK_FREE_CREATES = {"CreateStmt", "CreateSeqStmt", "CreateTableAsStmt"}

_DML_KINDS = {
    "SelectStmt",
    "InsertStmt",
    "UpdateStmt",
    "DeleteStmt",
    "MergeStmt",
    "VariableSetStmt",
    "VariableShowStmt",
    "TransactionStmt",
}

# Django's backends use %s placeholders; pglast needs plain SQL. A literal is enough to
# learn the statement's shape (the value never matters for locking).
_PLACEHOLDER = re.compile(r"%s")


def relation_name(rangevar: ast.RangeVar | None) -> str:
    """Return the relation a statement names, as Django's ``db_table`` would write it:
    ``table`` as written, or ``"schema"."table"`` (``postgres.tables.qualified_name``)."""
    if rangevar is None:
        return ""
    return qualified_name(str(rangevar.relname), str(rangevar.schemaname or ""))


def relation_from_names(names: tuple[Any, ...]) -> str:
    """Name a relation given as a list of identifiers (``DROP INDEX s.i``), as above."""
    *schema, name = (str(part.sval) for part in names)
    return qualified_name(name, schema[-1] if schema else "")


def _alter_table(stmt: ast.AlterTableStmt) -> list[RelationLock]:
    table = relation_name(stmt.relation)
    via_index = stmt.objtype == ObjectType.OBJECT_INDEX
    locks = [RelationLock(table, _alter_table_mode(stmt), via_index)]
    for cmd in stmt.cmds or ():
        # A foreign key, added alone or inline with ADD COLUMN, locks the referenced table.
        inline = (
            getattr(cmd.def_, "constraints", None) if isinstance(cmd.def_, ast.ColumnDef) else None
        )
        for constraint in inline or (cmd.def_,):
            if (
                isinstance(constraint, ast.Constraint)
                and constraint.contype == ConstrType.CONSTR_FOREIGN
            ):
                locks.append(
                    RelationLock(relation_name(constraint.pktable), _M.SHARE_ROW_EXCLUSIVE)
                )
    return locks


def _alter_table_mode(stmt: ast.AlterTableStmt) -> LockMode:
    if stmt.objtype == ObjectType.OBJECT_INDEX:
        return _M.ACCESS_EXCLUSIVE
    return max(_alter_table_cmd_mode(cmd) for cmd in stmt.cmds or ())


def _alter_table_cmd_mode(cmd: ast.AlterTableCmd) -> LockMode:
    constraint = cmd.def_
    if (
        cmd.subtype == _AT.AT_AddConstraint
        and isinstance(constraint, ast.Constraint)
        and constraint.contype == ConstrType.CONSTR_FOREIGN
    ):
        return _M.SHARE_ROW_EXCLUSIVE
    if isinstance(constraint, ast.PartitionCmd) and constraint.concurrent:
        return _M.SHARE_UPDATE_EXCLUSIVE
    return _ALTER_TABLE_LOCKS.get(int(cmd.subtype or 0), _M.ACCESS_EXCLUSIVE)


def _index(stmt: ast.IndexStmt) -> list[RelationLock]:
    mode = _M.SHARE_UPDATE_EXCLUSIVE if stmt.concurrent else _M.SHARE
    return [RelationLock(relation_name(stmt.relation), mode)]


def _drop(stmt: ast.DropStmt) -> list[RelationLock]:
    if stmt.removeType == ObjectType.OBJECT_INDEX:
        mode = _M.SHARE_UPDATE_EXCLUSIVE if stmt.concurrent else _M.ACCESS_EXCLUSIVE
        return [
            RelationLock(relation_from_names(names), mode, via_index=True)
            for names in stmt.objects or ()
        ]
    if stmt.removeType in _RELATION_OBJECTS:
        return [
            RelationLock(relation_from_names(names), _M.ACCESS_EXCLUSIVE)
            for names in stmt.objects or ()
        ]
    return []


def _rename(stmt: ast.RenameStmt) -> list[RelationLock]:
    if stmt.relation is None:
        return []
    if stmt.renameType == ObjectType.OBJECT_INDEX:
        return [RelationLock(relation_name(stmt.relation), _M.SHARE_UPDATE_EXCLUSIVE, True)]
    return [RelationLock(relation_name(stmt.relation), _M.ACCESS_EXCLUSIVE)]


def _create_table(stmt: ast.CreateStmt) -> list[RelationLock]:
    """A new table's inline foreign keys lock the tables they reference."""
    constraints = []
    for element in stmt.tableElts or ():
        if isinstance(element, ast.Constraint):
            constraints.append(element)
        elif isinstance(element, ast.ColumnDef):
            constraints.extend(
                c for c in element.constraints or () if isinstance(c, ast.Constraint)
            )
    return [
        RelationLock(relation_name(constraint.pktable), _M.SHARE_ROW_EXCLUSIVE)
        for constraint in constraints
        if constraint.contype == ConstrType.CONSTR_FOREIGN
    ]


def _vacuum(stmt: ast.VacuumStmt) -> list[RelationLock]:
    full = any(option.defname == "full" for option in stmt.options or ())
    mode = _M.ACCESS_EXCLUSIVE if full else _M.SHARE_UPDATE_EXCLUSIVE
    return [RelationLock(relation_name(rel.relation), mode) for rel in stmt.rels or ()]


def _reindex(stmt: ast.ReindexStmt) -> list[RelationLock]:
    if stmt.relation is None:
        return []
    mode = _M.SHARE_UPDATE_EXCLUSIVE if _reindex_concurrently(stmt) else _M.SHARE
    via_index = stmt.kind == ReindexObjectType.REINDEX_OBJECT_INDEX
    return [RelationLock(relation_name(stmt.relation), mode, via_index)]


def _comment(stmt: ast.CommentStmt) -> list[RelationLock]:
    """COMMENT ON TABLE/COLUMN takes SHARE UPDATE EXCLUSIVE (seen in pg_locks; undocumented)."""
    names: tuple[Any, ...] = tuple(stmt.object or ())
    if stmt.objtype == ObjectType.OBJECT_TABLE:
        return [RelationLock(relation_from_names(names), _M.SHARE_UPDATE_EXCLUSIVE)]
    if stmt.objtype == ObjectType.OBJECT_COLUMN:
        return [RelationLock(relation_from_names(names[:-1]), _M.SHARE_UPDATE_EXCLUSIVE)]
    return []


def _dml(stmt: Any) -> list[RelationLock]:
    return [RelationLock(relation_name(stmt.relation), _M.ROW_EXCLUSIVE)]


def _locks_of(stmt: ast.Node) -> list[RelationLock]:
    handlers: dict[type[ast.Node], Any] = {
        ast.AlterTableStmt: _alter_table,
        ast.IndexStmt: _index,
        ast.CreateStmt: _create_table,
        ast.DropStmt: _drop,
        ast.RenameStmt: _rename,
        ast.UpdateStmt: _dml,
        ast.DeleteStmt: _dml,
        ast.InsertStmt: _dml,
        ast.TruncateStmt: lambda s: [
            RelationLock(relation_name(rel), _M.ACCESS_EXCLUSIVE) for rel in s.relations
        ],
        ast.CommentStmt: _comment,
        ast.VacuumStmt: _vacuum,
        ast.ReindexStmt: _reindex,
        ast.ClusterStmt: lambda s: [RelationLock(relation_name(s.relation), _M.ACCESS_EXCLUSIVE)],
        ast.CreateTrigStmt: lambda s: [
            RelationLock(relation_name(s.relation), _M.SHARE_ROW_EXCLUSIVE)
        ],
        ast.LockStmt: lambda s: [
            RelationLock(relation_name(rel), LockMode(s.mode)) for rel in s.relations
        ],
    }
    handler = handlers.get(type(stmt))
    return list(handler(stmt)) if handler else []


def _is_concurrent(stmt: ast.Node) -> bool:
    if isinstance(stmt, ast.IndexStmt | ast.DropStmt | ast.ReindexStmt):
        return bool(getattr(stmt, "concurrent", False)) or _reindex_concurrently(stmt)
    if isinstance(stmt, ast.AlterTableStmt):
        return any(
            isinstance(cmd.def_, ast.PartitionCmd) and bool(cmd.def_.concurrent)
            for cmd in stmt.cmds or ()
        )
    return False


def _reindex_concurrently(stmt: ast.Node) -> bool:
    if not isinstance(stmt, ast.ReindexStmt):
        return False
    return any(getattr(param, "defname", None) == "concurrently" for param in stmt.params or ())


def _creates(stmt: ast.Node) -> tuple[str, ...]:
    if isinstance(stmt, ast.CreateStmt):
        return (relation_name(stmt.relation),)
    if isinstance(stmt, ast.CreateTableAsStmt) and stmt.into is not None:
        return (relation_name(stmt.into.rel),)
    return ()


@functools.lru_cache(maxsize=2048)
def classify(sql: str) -> tuple[StatementInfo, ...]:
    """Return what each statement in ``sql`` locks; unparseable SQL yields one ``parsed=False``."""
    return tuple(info for info, _ in parse(sql))


@functools.lru_cache(maxsize=2048)
def parse(sql: str) -> tuple[tuple[StatementInfo, ast.Node | None], ...]:
    """Return each statement's ``StatementInfo`` with its parse tree, for deeper analysis.

    The analysis (``safemigrate.analysis.sqlfacts``) reads the same trees the guard does, so
    the two can never disagree about which statement locks what.
    """
    text = _PLACEHOLDER.sub("NULL", sql.replace("%%", "%"))
    try:
        raw_statements = pglast.parse_sql(text)
    except pglast.parser.ParseError as error:
        info = StatementInfo(sql=sql, kind="Unparseable", parsed=False, notes=(str(error),))
        return ((info, None),)
    statements = [(raw, raw.stmt) for raw in raw_statements if raw.stmt is not None]
    if len(statements) == 1:
        return ((_describe(sql, statements[0][1]), statements[0][1]),)
    return tuple((_describe(_text_of(text, raw), stmt), stmt) for raw, stmt in statements)


def _text_of(text: str, raw: ast.RawStmt) -> str:
    """Return one statement's own text out of a string holding several."""
    # pglast reports byte offsets; identifiers and literals may hold non-ASCII characters.
    data = text.encode()
    start = raw.stmt_location or 0
    end = start + raw.stmt_len if raw.stmt_len else len(data)
    return data[start:end].decode(errors="replace").strip()


def _describe(sql: str, stmt: ast.Node) -> StatementInfo:
    return StatementInfo(
        sql=sql,
        kind=type(stmt).__name__,
        locks=tuple(_locks_of(stmt)),
        concurrently=_is_concurrent(stmt),
        creates=_creates(stmt),
    )

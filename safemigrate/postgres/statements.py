"""Read a SQL statement with pglast: which relations it locks, in which mode.

The guard uses this to decide, before a statement runs, whether it is ``CONCURRENTLY`` work
(exempt from the lock timeout), which tables' policies apply, and whether pre-flight should
look for long transactions. Lock modes follow the manual's "Table-Level Locks" and the
per-command pages (``ALTER TABLE``, ``CREATE INDEX``, ``DROP INDEX``, ...).

``classify()`` reads libpg_query's JSON tree, because the guard calls it for every statement a
migration runs and building ``pglast.ast`` objects costs about ten times more. ``parse()`` adds
the ``pglast.ast`` tree for the analysis (``postgres.tree_names`` names its relations); the
lock rules exist once, on the JSON.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
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
_ALTER_TABLE_LOCKS: dict[str, LockMode] = {
    _AT.AT_ValidateConstraint.name: _M.SHARE_UPDATE_EXCLUSIVE,
    _AT.AT_SetStatistics.name: _M.SHARE_UPDATE_EXCLUSIVE,
    # Storage parameters: fillfactor, autovacuum and planner ones take SHARE UPDATE EXCLUSIVE.
    _AT.AT_SetRelOptions.name: _M.SHARE_UPDATE_EXCLUSIVE,
    _AT.AT_ResetRelOptions.name: _M.SHARE_UPDATE_EXCLUSIVE,
    _AT.AT_ClusterOn.name: _M.SHARE_UPDATE_EXCLUSIVE,
    _AT.AT_DropCluster.name: _M.SHARE_UPDATE_EXCLUSIVE,
    _AT.AT_AttachPartition.name: _M.SHARE_UPDATE_EXCLUSIVE,
    _AT.AT_EnableTrig.name: _M.SHARE_ROW_EXCLUSIVE,
    _AT.AT_EnableAlwaysTrig.name: _M.SHARE_ROW_EXCLUSIVE,
    _AT.AT_EnableReplicaTrig.name: _M.SHARE_ROW_EXCLUSIVE,
    _AT.AT_DisableTrig.name: _M.SHARE_ROW_EXCLUSIVE,
    _AT.AT_EnableTrigAll.name: _M.SHARE_ROW_EXCLUSIVE,
    _AT.AT_DisableTrigAll.name: _M.SHARE_ROW_EXCLUSIVE,
    _AT.AT_EnableTrigUser.name: _M.SHARE_ROW_EXCLUSIVE,
    _AT.AT_DisableTrigUser.name: _M.SHARE_ROW_EXCLUSIVE,
}

# Object kinds whose DROP or RENAME locks a relation by that name.
_RELATION_OBJECTS = {
    ObjectType.OBJECT_TABLE.name,
    ObjectType.OBJECT_VIEW.name,
    ObjectType.OBJECT_MATVIEW.name,
    ObjectType.OBJECT_FOREIGN_TABLE.name,
    ObjectType.OBJECT_SEQUENCE.name,
}
_INDEX = ObjectType.OBJECT_INDEX.name
_FOREIGN = ConstrType.CONSTR_FOREIGN.name


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


# The guard's reading. libpg_query's JSON is a tree of plain dicts: a node in a ``Node *``
# field or a list is wrapped as ``{"TypeName": {fields}}``, a field of a fixed type (a
# statement's ``relation``) is not, and a field at its default (false, 0, NULL) is left out.
Node = dict[str, Any]


def _unwrap(wrapped: Node) -> tuple[str, Node]:
    """Split ``{"Constraint": {...}}`` into the node's type name and its fields."""
    [(kind, fields)] = wrapped.items()
    return kind, fields


def _items(wrapped: Node | None) -> list[Node]:
    """Return the elements of a ``List`` node (``{"List": {"items": [...]}}``)."""
    return list(wrapped["List"].get("items", ())) if wrapped else []


def _relation(rangevar: Node | None) -> str:
    """Name the relation a ``RangeVar`` dict names, as ``relation_name`` does."""
    if rangevar is None:
        return ""
    return qualified_name(rangevar["relname"], rangevar.get("schemaname", ""))


def _relation_from_names(names: list[Node]) -> str:
    """Name a relation given as ``String`` dicts, as ``relation_from_names`` does."""
    *schema, name = (part["String"]["sval"] for part in names)
    return qualified_name(name, schema[-1] if schema else "")


def _is_foreign_key(wrapped: Node) -> bool:
    kind, fields = _unwrap(wrapped)
    return kind == "Constraint" and fields.get("contype") == _FOREIGN


def _referenced(elements: Iterable[Node]) -> list[RelationLock]:
    """Lock the tables that foreign keys among ``elements``, or inline in columns, reference."""
    constraints: list[Node] = []
    for element in elements:
        kind, fields = _unwrap(element)
        constraints.extend(fields.get("constraints", ()) if kind == "ColumnDef" else (element,))
    return [
        RelationLock(_relation(constraint["Constraint"].get("pktable")), _M.SHARE_ROW_EXCLUSIVE)
        for constraint in constraints
        if _is_foreign_key(constraint)
    ]


def _alter_table(stmt: Node) -> list[RelationLock]:
    table = _relation(stmt.get("relation"))
    via_index = stmt.get("objtype") == _INDEX
    # A foreign key, added alone or inline with ADD COLUMN, locks the referenced table.
    definitions = [cmd["def"] for cmd in _commands(stmt) if "def" in cmd]
    return [RelationLock(table, _alter_table_mode(stmt), via_index), *_referenced(definitions)]


def _commands(stmt: Node) -> list[Node]:
    """Return an ``ALTER TABLE``'s sub-commands (``AlterTableCmd`` fields)."""
    return [cmd["AlterTableCmd"] for cmd in stmt.get("cmds", ())]


def _alter_table_mode(stmt: Node) -> LockMode:
    if stmt.get("objtype") == _INDEX:
        return _M.ACCESS_EXCLUSIVE
    return max(_alter_table_cmd_mode(cmd) for cmd in _commands(stmt))


def _alter_table_cmd_mode(cmd: Node) -> LockMode:
    adds_constraint = cmd.get("subtype") == _AT.AT_AddConstraint.name
    if adds_constraint and _is_foreign_key(cmd["def"]):
        return _M.SHARE_ROW_EXCLUSIVE
    if _partition_concurrently(cmd):
        return _M.SHARE_UPDATE_EXCLUSIVE
    return _ALTER_TABLE_LOCKS.get(cmd.get("subtype", ""), _M.ACCESS_EXCLUSIVE)


def _partition_concurrently(cmd: Node) -> bool:
    """Whether a sub-command is ``DETACH PARTITION ... CONCURRENTLY``."""
    partition = cmd.get("def", {}).get("PartitionCmd", {})
    return bool(partition.get("concurrent"))


def _index(stmt: Node) -> list[RelationLock]:
    mode = _M.SHARE_UPDATE_EXCLUSIVE if stmt.get("concurrent") else _M.SHARE
    return [RelationLock(_relation(stmt.get("relation")), mode)]


def _drop(stmt: Node) -> list[RelationLock]:
    removed = stmt.get("removeType")
    if removed == _INDEX:
        mode = _M.SHARE_UPDATE_EXCLUSIVE if stmt.get("concurrent") else _M.ACCESS_EXCLUSIVE
    elif removed in _RELATION_OBJECTS:
        mode = _M.ACCESS_EXCLUSIVE
    else:
        return []
    return [
        RelationLock(_relation_from_names(_items(names)), mode, via_index=removed == _INDEX)
        for names in stmt.get("objects", ())
    ]


def _rename(stmt: Node) -> list[RelationLock]:
    if "relation" not in stmt:
        return []
    table = _relation(stmt["relation"])
    if stmt.get("renameType") == _INDEX:
        return [RelationLock(table, _M.SHARE_UPDATE_EXCLUSIVE, True)]
    return [RelationLock(table, _M.ACCESS_EXCLUSIVE)]


def _create_table(stmt: Node) -> list[RelationLock]:
    """A new table's inline foreign keys lock the tables they reference."""
    return _referenced(stmt.get("tableElts", ()))


def _vacuum(stmt: Node) -> list[RelationLock]:
    full = any(_unwrap(option)[1].get("defname") == "full" for option in stmt.get("options", ()))
    mode = _M.ACCESS_EXCLUSIVE if full else _M.SHARE_UPDATE_EXCLUSIVE
    return [
        RelationLock(_relation(rel["VacuumRelation"].get("relation")), mode)
        for rel in stmt.get("rels", ())
    ]


def _reindex(stmt: Node) -> list[RelationLock]:
    if "relation" not in stmt:
        return []
    mode = _M.SHARE_UPDATE_EXCLUSIVE if _reindex_concurrently(stmt) else _M.SHARE
    via_index = stmt.get("kind") == ReindexObjectType.REINDEX_OBJECT_INDEX.name
    return [RelationLock(_relation(stmt["relation"]), mode, via_index)]


def _reindex_concurrently(stmt: Node) -> bool:
    params = stmt.get("params", ())
    return any(_unwrap(param)[1].get("defname") == "concurrently" for param in params)


def _comment(stmt: Node) -> list[RelationLock]:
    """COMMENT ON TABLE/COLUMN takes SHARE UPDATE EXCLUSIVE (seen in pg_locks; undocumented)."""
    if stmt.get("objtype") == ObjectType.OBJECT_TABLE.name:
        names = _items(stmt.get("object"))
    elif stmt.get("objtype") == ObjectType.OBJECT_COLUMN.name:
        names = _items(stmt.get("object"))[:-1]
    else:
        return []
    return [RelationLock(_relation_from_names(names), _M.SHARE_UPDATE_EXCLUSIVE)]


def _on_relation(mode: LockMode) -> Callable[[Node], list[RelationLock]]:
    """Read a statement that takes ``mode`` on its one ``relation`` (UPDATE, CLUSTER, ...)."""
    return lambda stmt: [RelationLock(_relation(stmt.get("relation")), mode)]


def _on_relations(stmt: Node, mode: LockMode) -> list[RelationLock]:
    """Lock each relation a statement lists (``TRUNCATE a, b``, ``LOCK a, b``) in ``mode``."""
    return [RelationLock(_relation(rel["RangeVar"]), mode) for rel in stmt.get("relations", ())]


_LOCK_READERS: dict[str, Callable[[Node], list[RelationLock]]] = {
    "AlterTableStmt": _alter_table,
    "IndexStmt": _index,
    "CreateStmt": _create_table,
    "DropStmt": _drop,
    "RenameStmt": _rename,
    "UpdateStmt": _on_relation(_M.ROW_EXCLUSIVE),
    "DeleteStmt": _on_relation(_M.ROW_EXCLUSIVE),
    "InsertStmt": _on_relation(_M.ROW_EXCLUSIVE),
    "TruncateStmt": lambda stmt: _on_relations(stmt, _M.ACCESS_EXCLUSIVE),
    "CommentStmt": _comment,
    "VacuumStmt": _vacuum,
    "ReindexStmt": _reindex,
    "ClusterStmt": _on_relation(_M.ACCESS_EXCLUSIVE),
    "CreateTrigStmt": _on_relation(_M.SHARE_ROW_EXCLUSIVE),
    "LockStmt": lambda stmt: _on_relations(stmt, LockMode(stmt["mode"])),
}


def _is_concurrent(kind: str, stmt: Node) -> bool:
    if kind in ("IndexStmt", "DropStmt"):
        return bool(stmt.get("concurrent"))
    if kind == "ReindexStmt":
        return _reindex_concurrently(stmt)
    if kind == "AlterTableStmt":
        return any(_partition_concurrently(cmd) for cmd in _commands(stmt))
    return False


def _creates(kind: str, stmt: Node) -> tuple[str, ...]:
    if kind == "CreateStmt":
        return (_relation(stmt.get("relation")),)
    if kind == "CreateTableAsStmt" and "into" in stmt:
        return (_relation(stmt["into"].get("rel")),)
    return ()


def _plain(sql: str) -> str:
    """Return ``sql`` with Django's placeholders filled in, ready for the parser."""
    return _PLACEHOLDER.sub("NULL", sql.replace("%%", "%"))


@functools.lru_cache(maxsize=2048)
def classify(sql: str) -> tuple[StatementInfo, ...]:
    """Return what each statement in ``sql`` locks; unparseable SQL yields one ``parsed=False``.

    The guard calls this for every statement a migration runs, so it reads libpg_query's JSON
    rather than building ``pglast.ast`` objects, which costs about ten times more.
    """
    text = _plain(sql)
    try:
        tree: Node = json.loads(pglast.parser.parse_sql_json(text))
    except pglast.parser.ParseError as error:
        return (StatementInfo(sql=sql, kind="Unparseable", parsed=False, notes=(str(error),)),)
    raw_statements = [raw for raw in tree.get("stmts", ()) if "stmt" in raw]
    if len(raw_statements) == 1:
        return (_describe(sql, raw_statements[0]["stmt"]),)
    return tuple(_describe(_text_of(text, raw), raw["stmt"]) for raw in raw_statements)


@functools.lru_cache(maxsize=2048)
def parse(sql: str) -> tuple[tuple[StatementInfo, ast.Node | None], ...]:
    """Return each statement's ``StatementInfo`` with its ``pglast.ast`` tree, for the analysis.

    The ``StatementInfo`` is ``classify()``'s own, so the analysis and the guard can never
    disagree about which statement locks what; the tree serves the analysis's deeper facts.
    """
    infos = classify(sql)
    if infos and not infos[0].parsed:
        return ((infos[0], None),)
    nodes = [raw.stmt for raw in pglast.parse_sql(_plain(sql)) if raw.stmt is not None]
    return tuple(zip(infos, nodes, strict=True))


def _text_of(text: str, raw: Node) -> str:
    """Return one statement's own text out of a string holding several."""
    # libpg_query reports byte offsets; identifiers and literals may hold non-ASCII characters.
    data = text.encode()
    start = raw.get("stmt_location", 0)
    end = start + raw["stmt_len"] if raw.get("stmt_len") else len(data)
    return data[start:end].decode(errors="replace").strip()


def _describe(sql: str, wrapped: Node) -> StatementInfo:
    kind, stmt = _unwrap(wrapped)
    reader = _LOCK_READERS.get(kind)
    return StatementInfo(
        sql=sql,
        kind=kind,
        locks=tuple(reader(stmt)) if reader else (),
        concurrently=_is_concurrent(kind, stmt),
        creates=_creates(kind, stmt),
    )

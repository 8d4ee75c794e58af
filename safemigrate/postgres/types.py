"""Which column type changes PostgreSQL makes without rewriting the table.

ALTER COLUMN ... TYPE skips the rewrite when the type does not change at all (Django emits
such a statement for an ``AlterField`` that changes only, say, ``db_comment``), or when the
new type is binary-compatible with the old and no value can fail the new type's limits: a
longer (or no) varchar limit, varchar to text, a numeric with more precision and the same
scale. Everything else rewrites the table and rebuilds its indexes.
"""

from __future__ import annotations

import functools
from typing import Any

import pglast
from pglast import ast

#: Changes of type name that never rewrite, provided the limits grow (checked below).
_COMPATIBLE = {
    ("varchar", "varchar"),
    ("varchar", "text"),
    ("text", "text"),
    ("bpchar", "text"),
    ("numeric", "numeric"),
    ("varbit", "varbit"),
    ("cidr", "inet"),
    ("citext", "citext"),
}


def type_name(type_node: Any) -> str:
    """Return the type's internal name, e.g. ``int4`` for ``integer``, ``bpchar`` for char."""
    return str(type_node.names[-1].sval).lower()


def _arrays(type_node: Any) -> int:
    return len(type_node.arrayBounds or ())


def _modifiers(type_node: Any) -> tuple[int, ...]:
    return tuple(int(mod.val.ival) for mod in type_node.typmods or () if hasattr(mod, "val"))


@functools.lru_cache(maxsize=512)
def parse_type(sql: str) -> Any:
    """Parse a type written as SQL (as Django's ``db_type`` gives it)."""
    try:
        select = pglast.parse_sql(f"SELECT NULL::{sql}")[0].stmt
    except pglast.parser.ParseError:
        return None
    cast = select.targetList[0].val  # type: ignore[union-attr]
    return cast.typeName if isinstance(cast, ast.TypeCast) else None


def is_safe_type_change(old_type: str | ast.TypeName, new: Any) -> bool:
    """Return whether changing a column from ``old_type`` (SQL, or a statement's parsed type)
    to ``new`` avoids a rewrite."""
    old = parse_type(old_type) if isinstance(old_type, str) else old_type
    if old is None:
        return False
    names = (type_name(old), type_name(new))
    before, after = _modifiers(old), _modifiers(new)
    if names[0] == names[1] and before == after and _arrays(old) == _arrays(new):
        return True  # the same type: PostgreSQL changes nothing on disk
    if names not in _COMPATIBLE:
        return False
    if not after:
        return True
    if not before or len(before) != len(after):
        return False
    if names[0] == "numeric":
        return after[0] >= before[0] and after[1:] == before[1:]
    return after[0] >= before[0]


def same_type(first: str, second: str) -> bool:
    """Whether two types written as SQL are one type (``bigint`` and ``int8``, ``character
    varying(20)`` and ``varchar(20)``)."""
    a, b = parse_type(first), parse_type(second)
    if a is None or b is None:
        return first == second
    return (type_name(a), _modifiers(a), _arrays(a)) == (type_name(b), _modifiers(b), _arrays(b))

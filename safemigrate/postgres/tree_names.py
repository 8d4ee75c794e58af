"""Name the relations of ``pglast.ast`` trees, as Django's ``db_table`` would write them.

For the analysis, which reads the trees ``statements.parse()`` returns; the guard's own reading
of statements works on libpg_query's JSON (``statements``).
"""

from __future__ import annotations

from typing import Any

from pglast import ast

from safemigrate.postgres.tables import qualified_name


def relation_name(rangevar: ast.RangeVar | None) -> str:
    """Return the relation an AST node names, as Django's ``db_table`` would write it:
    ``table`` as written, or ``"schema"."table"`` (``postgres.tables.qualified_name``)."""
    if rangevar is None:
        return ""
    return qualified_name(str(rangevar.relname), str(rangevar.schemaname or ""))


def relation_from_names(names: tuple[Any, ...]) -> str:
    """Name a relation given as AST identifiers (``DROP INDEX s.i``), as above."""
    *schema, name = (str(part.sval) for part in names)
    return qualified_name(name, schema[-1] if schema else "")

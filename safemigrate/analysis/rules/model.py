"""The shape of one rule of the catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

DOCS_BASE = "docs/rules"


class Severity(IntEnum):
    """How bad a finding is; ``ERROR`` stops ``safemigrate`` unless acknowledged."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Rule:
    """One thing that can go wrong, and its safe alternative.

    ``fact`` is the kind of fact the analysis reports that this rule judges. ``size_matters``
    rules are about how long a lock is held (a scan, a rewrite, an index build): on a table
    known to be small they drop to ``INFO``. ``new_table_safe`` rules cannot hurt a table
    created earlier in the same plan: nobody uses it yet, and it holds no rows.
    """

    id: str
    fact: str
    title: str
    severity: Severity
    lock: str
    why: str
    safe: str
    bad: str
    good: str
    operations: tuple[str, ...] = ()
    pg_versions: str = "12+"
    size_matters: bool = True
    new_table_safe: bool = True

    @property
    def docs(self) -> str:
        """The path of the rule's page in the documentation."""
        return f"{DOCS_BASE}/{self.id}.md"


def op(name: str) -> str:
    """Spell a safemigrate operation as users import it."""
    return f"safemigrate.operations.{name}"

"""The rule catalogue: what safemigrate flags, why, and what to write instead.

Rules are data. The analysis turns each statement and operation into *facts* ("this adds a
CHECK constraint that validates at once"); the engine looks each fact's rule up here and
adjusts its severity for the context (a table created earlier in the plan, a small or a hot
table). Adding a rule is adding an entry, never a branch in the engine.
"""

from __future__ import annotations

from safemigrate.analysis.rules.code import CODE_RULES
from safemigrate.analysis.rules.hygiene import HYGIENE_RULES
from safemigrate.analysis.rules.locking import LOCKING_RULES
from safemigrate.analysis.rules.model import Rule, Severity

__all__ = [
    "RULES",
    "SAFE_OPERATIONS",
    "Rule",
    "Severity",
    "by_fact",
    "get_rule",
]

#: Every rule, by id.
RULES: dict[str, Rule] = {rule.id: rule for rule in (*LOCKING_RULES, *CODE_RULES, *HYGIENE_RULES)}

#: The operations the catalogue recommends, as users import them. Issue 4 ships them; its
#: tests check that each name here resolves, so the advice and the code cannot drift.
SAFE_OPERATIONS: tuple[str, ...] = tuple(
    sorted({name for rule in RULES.values() for name in rule.operations})
)

_BY_FACT = {rule.fact: rule for rule in RULES.values()}


def get_rule(rule_id: str) -> Rule:
    """Return the rule with this id, e.g. ``SM109``."""
    return RULES[rule_id]


def by_fact(fact: str) -> Rule:
    """Return the rule that judges one kind of fact."""
    return _BY_FACT[fact]
